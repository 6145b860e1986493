package web_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/server/web"
)

// TestConditionalWrites: a PUT creating a value answers 201, one replacing
// it 204; If-Match with the ETag a GET gave lets a write through (a value
// streamed into cold, an array, a DELETE) and the same ETag once stale
// stops it with a 412 that changes nothing.
func TestConditionalWrites(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	u := keyURL(srv, "doc")
	big := func(b byte) []byte { return bytes.Repeat([]byte{b}, 200<<10) }
	resp, body := do(t, http.MethodPut, u+"?tier=cold", bytes.NewReader(big('a')))
	wantStatus(t, resp, body, http.StatusCreated, "")
	resp, body = do(t, http.MethodPut, u+"?tier=cold", bytes.NewReader(big('b')))
	wantStatus(t, resp, body, http.StatusNoContent, "")
	get, _ := do(t, http.MethodGet, u, nil)
	tag := get.Header.Get("ETag")
	resp, body = do(t, http.MethodPut, u+"?tier=cold", bytes.NewReader(big('c')), "If-Match", `"1", `+tag)
	wantStatus(t, resp, body, http.StatusNoContent, "")
	resp, body = do(t, http.MethodPut, u+"?tier=cold", bytes.NewReader(big('d')), "If-Match", tag)
	wantStatus(t, resp, body, http.StatusPreconditionFailed, "precondition failed")
	resp, body = do(t, http.MethodDelete, u, nil, "If-Match", tag)
	wantStatus(t, resp, body, http.StatusPreconditionFailed, "precondition failed")
	if v, err := m.Retrieve("doc"); err != nil || !bytes.Equal(v, big('c')) {
		t.Fatalf("after stale writes: %.10q, %v; want the third value", v, err)
	}
	get, _ = do(t, http.MethodGet, u, nil)
	resp, body = do(t, http.MethodDelete, u, nil, "If-Match", get.Header.Get("ETag"))
	wantStatus(t, resp, body, http.StatusNoContent, "")
	resp, body = do(t, http.MethodDelete, u, nil, "If-None-Match", "*")
	wantStatus(t, resp, body, http.StatusNotFound, "not found")

	a := srv.URL + "/v1/arrays/m"
	resp, body = do(t, http.MethodPut, a, bytes.NewReader(npyFile("<i2", "(2,)", []byte{1, 0, 2, 0})), "If-None-Match", "*")
	wantStatus(t, resp, body, http.StatusCreated, "")
	get, _ = do(t, http.MethodGet, a, nil)
	atag := get.Header.Get("ETag")
	keyGet, _ := do(t, http.MethodGet, srv.URL+"/v1/keys/m", nil)
	if atag == "" || atag == keyGet.Header.Get("ETag") {
		t.Errorf("the array's ETag %s and the key's %s: want two tags, for two representations", atag, keyGet.Header.Get("ETag"))
	}
	resp, body = do(t, http.MethodPut, a, bytes.NewReader(npyFile("<i2", "(1, 2)", []byte{1, 0, 2, 0})), "If-Match", atag)
	wantStatus(t, resp, body, http.StatusNoContent, "")
	resp, body = do(t, http.MethodPut, a, bytes.NewReader(npyFile("<i2", "(2,)", []byte{9, 0, 9, 0})), "If-Match", atag)
	if resp.StatusCode != http.StatusPreconditionFailed || !strings.Contains(string(body), "If-Match") {
		t.Errorf("PUT of an array with the ETag of its shape before: %s %s; want 412 (the same data, reshaped, is another representation)", resp.Status, body)
	}
	if arr, err := m.RetrieveArray("m"); err != nil || len(arr.Shape) != 2 {
		t.Errorf("after a stale array PUT: %v, %v; want the (1, 2) array", arr, err)
	}
}
