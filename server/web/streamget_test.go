package web_test

import (
	"bytes"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

// TestGetStreamedFromCold GETs a large raw value from cold, which the
// handler reads from disk as it sends it: the body, HEAD, a Range, a
// multi-range and If-None-Match with its ETag all answer as for a value in
// memory.
func TestGetStreamedFromCold(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	want := make([]byte, 5<<20+123)
	rand.Read(want)
	resp, body := do(t, http.MethodPut, keyURL(srv, "big")+"?tier=cold", bytes.NewReader(want))
	wantWritten(t, resp, body)
	if v, err := m.OpenValue("big"); err != nil || !v.Streamed() {
		t.Fatalf("the value is not one OpenValue streams: %v", err)
	} else {
		v.Close()
	}

	resp, body = do(t, http.MethodGet, keyURL(srv, "big"), nil)
	wantStatus(t, resp, body, http.StatusOK, "")
	if !bytes.Equal(body, want) {
		t.Fatalf("GET: %d bytes, not the value", len(body))
	}
	tag := resp.Header.Get("Etag")
	if len(tag) != 18 || resp.Header.Get("Content-Length") != "5243003" || resp.Header.Get("Content-Security-Policy") != "sandbox" {
		t.Errorf("GET headers: %v", resp.Header)
	}

	resp, body = do(t, http.MethodHead, keyURL(srv, "big"), nil)
	if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.Header.Get("Content-Length") != "5243003" {
		t.Errorf("HEAD: %s, %d bytes, %v", resp.Status, len(body), resp.Header)
	}

	resp, body = do(t, http.MethodGet, keyURL(srv, "big"), nil, "Range", "bytes=4194300-4194399")
	wantStatus(t, resp, body, http.StatusPartialContent, "")
	if !bytes.Equal(body, want[4194300:4194400]) {
		t.Errorf("Range: %d bytes, not the range", len(body))
	}

	resp, body = do(t, http.MethodGet, keyURL(srv, "big"), nil, "Range", "bytes=0-9,-10")
	wantStatus(t, resp, body, http.StatusPartialContent, "")
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/byteranges") || !bytes.Contains(body, want[:10]) || !bytes.Contains(body, want[len(want)-10:]) {
		t.Errorf("multi-range: %s, %d bytes", resp.Header.Get("Content-Type"), len(body))
	}

	resp, body = do(t, http.MethodGet, keyURL(srv, "big"), nil, "Range", "bytes=6000000-")
	wantStatus(t, resp, body, http.StatusRequestedRangeNotSatisfiable, "")

	resp, body = do(t, http.MethodGet, keyURL(srv, "big"), nil, "If-None-Match", tag)
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("If-None-Match with its ETag: %s, %d bytes", resp.Status, len(body))
	}
}

// TestGetStreamedCorrupt flips a bit of a large cold value in its segment
// file: a GET is a 500 that says the value is corrupt, never its bytes,
// whether it asks for all of it, a range, or names another tag. A HEAD and
// a GET whose If-None-Match names the value's tag send no bytes and are
// answered from the size and checksum the cold tier keeps, without reading
// the value (so they cannot see the flip: a later GET does).
func TestGetStreamedCorrupt(t *testing.T) {
	srv, want, tag := corruptCold(t)
	resp, body := do(t, http.MethodHead, keyURL(srv, "big"), nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Etag") != tag || resp.ContentLength != int64(len(want)) || len(body) != 0 {
		t.Errorf("HEAD: %s, ETag %s (want %s), length %d, %d bytes of body", resp.Status, resp.Header.Get("Etag"), tag, resp.ContentLength, len(body))
	}
	resp, body = do(t, http.MethodGet, keyURL(srv, "big"), nil, "If-None-Match", `"0", W/`+tag)
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("GET naming its tag: %s, %d bytes", resp.Status, len(body))
	}
	for _, hdr := range [][]string{nil, {"Range", "bytes=0-9"}, {"If-None-Match", `"0000000000000000"`}} {
		resp, body = do(t, http.MethodGet, keyURL(srv, "big"), nil, hdr...)
		wantStatus(t, resp, body, http.StatusInternalServerError, "corrupt")
	}
}

// corruptCold stores 3 MiB of random bytes under "big" in the cold tier of
// a new server, raw (streamed), and flips a bit of the value's last byte in
// its segment file. It returns the server, the value and its ETag, taken
// before the flip.
func corruptCold(t *testing.T) (*httptest.Server, []byte, string) {
	t.Helper()
	dir := t.TempDir()
	m, err := tiermem.Open(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	h, err := web.New(m, web.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := newTestServer(t, h)
	want := make([]byte, 3<<20)
	rand.Read(want)
	resp, body := do(t, http.MethodPut, keyURL(srv, "big")+"?tier=cold", bytes.NewReader(want))
	wantWritten(t, resp, body)
	resp, _ = do(t, http.MethodHead, keyURL(srv, "big"), nil) // the value leaves the log's write buffer
	tag := resp.Header.Get("Etag")
	files, _ := filepath.Glob(filepath.Join(dir, "cold", "*.seg"))
	flipped := false
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if i := bytes.Index(b, want[:64]); i >= 0 && i+len(want) <= len(b) {
			b[i+len(want)-1] ^= 0x80
			os.WriteFile(f, b, 0o644)
			flipped = true
		}
	}
	if !flipped {
		t.Fatal("the value is in no segment file")
	}
	return srv, want, tag
}
