package web_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/server/web"
)

// Conditional writes (RFC 9110 §13.1.1 If-Match, §13.1.2 If-None-Match,
// §13.2.1): an origin server MUST evaluate the preconditions of a PUT or a
// DELETE before it acts, and answer 412 without changing anything when one
// fails. A client that sends "If-None-Match: *" (create only) or
// "If-Match: <the ETag it read>" (optimistic concurrency) relies on that
// to never overwrite, or delete, a value someone else wrote meanwhile.

// TestPutIfNoneMatchStarKeepsTheValue: a create-only PUT of a key
// that exists is a 412, and the value acknowledged earlier is kept.
func TestPutIfNoneMatchStarKeepsTheValue(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	u := keyURL(srv, "k")
	resp, body := do(t, http.MethodPut, u, strings.NewReader("first writer"))
	wantWritten(t, resp, body)

	big := bytes.Repeat([]byte("x"), 100<<10)
	for _, c := range []struct {
		name, url string
		body      []byte
	}{
		{"PUT", u, []byte("second writer")},
		{"streamed PUT (over 64 KiB, with a Content-Length)", u + "?tier=cold", big},
		{"array PUT", srv.URL + "/v1/arrays/k", npyFile("|u1", "(3,)", []byte{1, 2, 3})},
	} {
		must(t, m.Store("k", []byte("first writer")))
		resp, body := do(t, http.MethodPut, c.url, bytes.NewReader(c.body), "If-None-Match", "*")
		v, err := m.Retrieve("k")
		if err != nil || string(v) != "first writer" || resp.StatusCode != http.StatusPreconditionFailed {
			t.Errorf("%s with If-None-Match: * of an existing key: %s %s; the key now holds %.20q (%d bytes, %v); want 412 and %q kept (RFC 9110 §13.1.2)",
				c.name, resp.Status, body, v, len(v), err, "first writer")
		}
	}

	// A create-only PUT of a key that does not exist succeeds.
	resp, body = do(t, http.MethodPut, keyURL(srv, "fresh"), strings.NewReader("new"), "If-None-Match", "*")
	if resp.StatusCode/100 != 2 {
		t.Errorf("PUT with If-None-Match: * of a new key: %s %s; want 201 or 204", resp.Status, body)
	}
}

// TestPutIfMatchStaleKeepsTheValue: a PUT whose If-Match names an
// ETag the value no longer has is a 412; one naming the current ETag
// goes through.
func TestPutIfMatchStaleKeepsTheValue(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	u := keyURL(srv, "doc")
	do(t, http.MethodPut, u, strings.NewReader("v1"))
	resp, _ := do(t, http.MethodGet, u, nil)
	stale := resp.Header.Get("ETag")
	do(t, http.MethodPut, u, strings.NewReader("v2 by another client"))

	resp, body := do(t, http.MethodPut, u, strings.NewReader("v3 based on v1"), "If-Match", stale)
	if v, _ := m.Retrieve("doc"); string(v) != "v2 by another client" || resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("PUT If-Match %s (stale): %s %s, key now %q; want 412 and %q kept (RFC 9110 §13.1.1: lost update)",
			stale, resp.Status, body, v, "v2 by another client")
	}

	resp, _ = do(t, http.MethodGet, u, nil)
	current := resp.Header.Get("ETag")
	resp, body = do(t, http.MethodPut, u, strings.NewReader("v3"), "If-Match", current)
	if v, _ := m.Retrieve("doc"); string(v) != "v3" || resp.StatusCode/100 != 2 {
		t.Errorf("PUT If-Match with the current ETag: %s %s, key now %q; want 204 and %q", resp.Status, body, v, "v3")
	}

	// If-Match on a key that does not exist is false (nothing matches).
	resp, _ = do(t, http.MethodPut, keyURL(srv, "absent"), strings.NewReader("x"), "If-Match", "*")
	if _, err := m.Retrieve("absent"); err == nil || resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("PUT If-Match: * of a missing key: %s, stored: %v; want 412 and nothing stored", resp.Status, err == nil)
	}
}

// TestDeleteIfMatchStaleKeepsTheKey: a DELETE whose If-Match names
// a stale ETag is a 412 and deletes nothing.
func TestDeleteIfMatchStaleKeepsTheKey(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	u := keyURL(srv, "k")
	do(t, http.MethodPut, u, strings.NewReader("v1"))
	resp, _ := do(t, http.MethodGet, u, nil)
	stale := resp.Header.Get("ETag")
	do(t, http.MethodPut, u, strings.NewReader("v2"))

	resp, body := do(t, http.MethodDelete, u, nil, "If-Match", stale)
	if v, err := m.Retrieve("k"); err != nil || string(v) != "v2" || resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("DELETE If-Match %s (stale): %s %s; key now %q, %v; want 412 and %q kept", stale, resp.Status, body, v, err, "v2")
	}
}
