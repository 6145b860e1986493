package web_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// plainCold is a cold store the caller built (Options.Cold.Store) that
// keeps only the tier.Persistent contract: no staging.
type plainCold struct{ tier.Persistent }

// TestChunkedPutWithACustomColdStore: a chunked PUT (no
// Content-Length: curl -T -, most HTTP/2 uploads) over 64 KiB is stored
// whatever the cold tier's store is; a store given in Options.Cold.Store
// keeps the tier.Store contract, which says nothing of staging. Before
// chunked bodies were staged on the cold disk it was read into memory and
// stored; a 400 "bad request" blames the client for the server's set-up.
func TestChunkedPutWithACustomColdStore(t *testing.T) {
	ds, err := disk.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions()
	opts.Cold.Store = plainCold{ds}
	opts.Glacier.Disabled = true
	m, srv := newServer(t, opts, web.Config{})
	value := bytes.Repeat([]byte("chunk"), 40<<10) // 200 KiB
	req, err := http.NewRequest(http.MethodPut, keyURL(srv, "k"), io.MultiReader(bytes.NewReader(value)))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("chunked PUT of 200 KiB with a custom cold store: %s %s; want 201", resp.Status, body)
	}
	if v, err := m.Retrieve("k"); err != nil || !bytes.Equal(v, value) {
		t.Errorf("stored %d bytes, %v; want the 200 KiB sent", len(v), err)
	}
	if err := m.StoreFrom("k2", bytes.NewReader(value), -1, tiermem.InTier(tiermem.Hot)); err != nil {
		t.Errorf("StoreFrom(-1) into hot with a custom cold store: %v", err)
	}
}
