package web_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

// TestHostileIfMatchZeroTagOnACorruptValue: a cold value whose stored
// bytes are damaged has no ETag (GET and HEAD answer 500), so no entity
// tag names it: a PUT or DELETE with If-Match: "0000000000000000" (the
// tag of checksum 0, which tiermem.Current.Checksum returns for a value it
// cannot read) fails, 412, saying the value cannot be read, and changes
// nothing: no compare-and-set against a version no reply ever gave. An
// If-None-Match of that tag does not match it either.
func TestHostileIfMatchZeroTagOnACorruptValue(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions()
	m, err := tiermem.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	value := []byte(strings.Repeat("compressible text, compressible text. ", 2000))
	keys := []string{"put", "del", "none"}
	for _, k := range keys {
		must(t, m.Store(k, value, tiermem.InTier(tiermem.Cold)))
	}
	must(t, m.Close())
	files, _ := filepath.Glob(filepath.Join(dir, "cold", "*.seg"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if i := bytes.LastIndex(b, []byte(k)); i >= 0 && i+len(k)+12 < len(b) {
				b[i+len(k)+12] ^= 0xff
			}
		}
		must(t, os.WriteFile(f, b, 0o644))
	}
	m, err = tiermem.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	for _, k := range keys {
		if _, err := m.Retrieve(k); err == nil {
			t.Skip("the damage was not detected: nothing to test")
		}
	}
	h, err := web.New(m, web.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := newTestServer(t, h)
	const zero = `"0000000000000000"`
	resp, body := do(t, http.MethodPut, keyURL(srv, "put"), strings.NewReader("fresh"), "If-Match", zero)
	wantStatus(t, resp, body, http.StatusPreconditionFailed, "cannot be read")
	resp, body = do(t, http.MethodDelete, keyURL(srv, "del"), nil, "If-Match", zero)
	wantStatus(t, resp, body, http.StatusPreconditionFailed, "cannot be read")
	for _, k := range []string{"put", "del"} {
		if _, err := m.Retrieve(k); err == nil {
			t.Errorf("%s: the failed precondition changed the damaged value", k)
		}
	}
	resp, body = do(t, http.MethodPut, keyURL(srv, "none"), strings.NewReader("fresh"), "If-None-Match", zero)
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("PUT If-None-Match %s over a damaged value: %d %s, want 204", zero, resp.StatusCode, body)
	}
}
