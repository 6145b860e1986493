package web_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

// TestPutReplacesACorruptValue: a value found corrupt on disk is
// an error to read (500), but an unconditional PUT or DELETE of its key
// replaces or removes it, as before conditional writes: what an operator
// does to repair a key. A PUT without If-Match or If-None-Match has no
// reason to read the value it replaces.
func TestPutReplacesACorruptValue(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions()
	m, err := tiermem.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	value := []byte(strings.Repeat("compressible text, compressible text. ", 2000))
	for _, k := range []string{"put", "del"} {
		if err := m.Store(k, value, tiermem.InTier(tiermem.Cold)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	// Damage the stored (compressed) bytes just after each key's record.
	files, _ := filepath.Glob(filepath.Join(dir, "cold", "*.seg"))
	flipped := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"put", "del"} {
			if i := bytes.LastIndex(b, []byte(k)); i >= 0 && i+len(k)+12 < len(b) {
				b[i+len(k)+12] ^= 0xff
				flipped++
			}
		}
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if flipped != 2 {
		t.Fatalf("flipped %d records", flipped)
	}
	m, err = tiermem.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Retrieve("put"); err == nil {
		t.Skip("the damage was not detected: nothing to test")
	}
	h, err := web.New(m, web.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, body := do(t, http.MethodPut, keyURL(srv, "put"), strings.NewReader("fresh"))
	if resp.StatusCode/100 != 2 {
		t.Errorf("unconditional PUT over a corrupt value: %s %s; want 201 or 204", resp.Status, body)
	}
	if v, err := m.Retrieve("put"); err != nil || string(v) != "fresh" {
		t.Errorf("after the PUT: %q, %v", v, err)
	}
	resp, body = do(t, http.MethodDelete, keyURL(srv, "del"), nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("unconditional DELETE of a corrupt value: %s %s; want 204", resp.Status, body)
	}
}
