package server_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tiermem/tiermem/server/web"
)

// startBoth serves one Manager over RESP and over HTTP, the HTTP
// handler's reads and writes in the RESP server's order, as `tiermem
// serve` does; it returns the RESP address and the HTTP base URL.
func startBoth(t *testing.T) (addr, url string) {
	t.Helper()
	addr, srv, m := startTiermem(t, nil)
	h, err := web.New(m, web.Config{})
	if err != nil {
		t.Fatal(err)
	}
	h.SequenceWith(srv.Sequencer())
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return addr, hs.URL
}

// httpDo sends one request to the key's URL and returns its status. A
// body that is not a *bytes.Reader is sent in chunks.
func httpDo(t *testing.T, method, url string, body io.Reader) int {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestSequencerWatchSeesHTTPWrites: a client WATCHes a key, and the key is
// written over HTTP (a small PUT, a streamed one, one sent in chunks, a
// DELETE) before the
// client's EXEC: the EXEC replies null and runs nothing, as after a write
// of another RESP client, so that an optimistic transaction never writes
// over an HTTP write it did not see.
func TestSequencerWatchSeesHTTPWrites(t *testing.T) {
	addr, url := startBoth(t)
	c := dial(t, addr)
	writes := []struct {
		name, method string
		body         func() io.Reader
	}{
		{"small PUT", http.MethodPut, func() io.Reader { return strings.NewReader("http") }},
		{"streamed PUT", http.MethodPut, func() io.Reader { return bytes.NewReader(bytes.Repeat([]byte("h"), 1<<20)) }},
		{"chunked PUT", http.MethodPut, func() io.Reader { return io.MultiReader(bytes.NewReader(bytes.Repeat([]byte("c"), 1<<20))) }},
		{"DELETE", http.MethodDelete, func() io.Reader { return http.NoBody }},
	}
	for _, w := range writes {
		c.do("SET", "k", "before")
		c.do("WATCH", "k")
		if st := httpDo(t, w.method, url+"/v1/keys/k", w.body()); st/100 != 2 {
			t.Fatalf("%s: HTTP status %d", w.name, st)
		}
		c.do("MULTI")
		c.do("SET", "k", "exec")
		if r := string(c.do("EXEC")); r != "*-1\r\n" {
			t.Errorf("%s of a watched key, then EXEC = %q, want a null reply", w.name, r)
		}
	}
	c.do("WATCH", "k")
	if st := httpDo(t, http.MethodGet, url+"/v1/keys/k", http.NoBody); st/100 != 2 && st != http.StatusNotFound {
		t.Fatalf("GET: HTTP status %d", st)
	}
	c.do("MULTI")
	c.do("SET", "k", "exec")
	if r := string(c.do("EXEC")); r != "*1\r\n+OK\r\n" {
		t.Errorf("an HTTP GET of a watched key aborted the EXEC: %q", r)
	}
}

// TestSequencerHTTPWritesWaitForEXEC: HTTP PUTs and DELETEs of a key run
// all the while a client's transactions set the key and read it back:
// no HTTP write lands inside an EXEC, which runs alone, so every read in
// it returns what the transaction set.
func TestSequencerHTTPWritesWaitForEXEC(t *testing.T) {
	addr, url := startBoth(t)
	c := dial(t, addr)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			big := bytes.Repeat([]byte("h"), 100<<10)
			for n := 0; !stop.Load(); n++ {
				switch (n + i) % 3 {
				case 0:
					httpDo(t, http.MethodPut, url+"/v1/keys/k", strings.NewReader("h"))
				case 1:
					httpDo(t, http.MethodPut, url+"/v1/keys/k", bytes.NewReader(big))
				default:
					httpDo(t, http.MethodDelete, url+"/v1/keys/k", http.NoBody)
				}
			}
		})
	}
	defer func() { stop.Store(true); wg.Wait() }()
	const gets = 40
	want := "*" + strconv.Itoa(gets+1) + "\r\n+OK\r\n" + strings.Repeat("$1\r\nA\r\n", gets)
	for range 150 {
		c.do("MULTI")
		c.do("SET", "k", "A")
		for range gets {
			c.do("GET", "k")
		}
		if r := string(c.do("EXEC")); r != want {
			t.Fatalf("an HTTP write landed inside an EXEC: its reads gave %.200q", r)
		}
	}
}
