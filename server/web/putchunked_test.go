package web_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

// TestChunkedPutIsStreamed: a PUT without a Content-Length
// (Transfer-Encoding: chunked: curl -T -, requests with a generator, Go's
// client with a reader of unknown length, most HTTP/2 uploads) of a value
// bound for the cold tier must be streamed as one with a Content-Length
// is (TestPutStreamed256MiB: a few MiB of Go memory for 256 MiB): "a 2 GB
// PUT must not need 2 GB of RAM beyond what the tier holds". (It was read
// into a buffer that doubled as it grew, then copied into the tier: a 32
// MiB chunked PUT allocated 165 MiB.)
func TestChunkedPutIsStreamed(t *testing.T) {
	const n = 32 << 20
	m, srv := newServer(t, nil, web.Config{})
	block := randomBlock()
	want := sha256.New()
	io.Copy(want, &blockReader{block: block, n: n})

	req, err := http.NewRequest(http.MethodPut, keyURL(srv, "big")+"?tier=cold", &blockReader{block: block, n: n})
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1 // chunked
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	runtime.ReadMemStats(&after)
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusNoContent {
		t.Fatalf("chunked PUT of %d MiB: %s", n>>20, resp.Status)
	}
	got := sha256.New()
	must(t, m.View("big", func(v []byte) error { got.Write(v); return nil }))
	if string(got.Sum(nil)) != string(want.Sum(nil)) {
		t.Fatal("the value read back differs")
	}
	if tr, _ := m.Tier("big"); tr != tiermem.Cold {
		t.Fatalf("big is in %v", tr)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("chunked PUT of %d MiB into cold: %.1f MiB of Go memory allocated", n>>20, float64(alloc)/(1<<20))
	if alloc > 16<<20 {
		t.Errorf("a chunked PUT of %d MiB into the cold tier allocated %.1f MiB of Go memory: the body was buffered whole (twice over while the buffer grew), not streamed",
			n>>20, float64(alloc)/(1<<20))
	}
}

// TestChunkedPutRefused: a chunked PUT over Config.MaxBodyBytes is a 413, one
// whose client goes away mid-body stores nothing, one into a tier too small
// for it a 413; the key keeps its value each time, and a chunked PUT into
// hot, under its budget, lands there.
func TestChunkedPutRefused(t *testing.T) {
	opts := testOptions()
	opts.Hot.Size = 512 << 10
	m, srv := newServer(t, opts, web.Config{MaxBodyBytes: 1 << 20})
	must(t, m.Store("k", []byte("old")))
	block := randomBlock()
	put := func(query string, body io.Reader) *http.Response {
		req, _ := http.NewRequest(http.MethodPut, keyURL(srv, "k")+query, body)
		req.ContentLength = -1
		resp, err := srv.Client().Do(req)
		if err != nil {
			return nil // the client's own body failed: the request was cut
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := put("?tier=cold", &blockReader{block: block, n: 1<<20 + 1}); resp == nil || resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a chunked PUT one byte over the limit: %v", resp)
	}
	put("?tier=cold", io.MultiReader(&blockReader{block: block, n: 512 << 10}, failingReader{}))
	if resp := put("?tier=hot", &blockReader{block: block, n: 1 << 20}); resp == nil || resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a chunked PUT larger than the hot tier: %v", resp)
	}
	if v, err := m.Retrieve("k"); err != nil || string(v) != "old" {
		t.Fatalf("after refused chunked PUTs: %.10q, %v; want the old value", v, err)
	}
	if resp := put("?tier=hot", &blockReader{block: block, n: 100 << 10}); resp == nil || resp.StatusCode != http.StatusNoContent {
		t.Errorf("a chunked PUT of 100 KiB into hot: %v", resp)
	}
	if tr, _ := m.Tier("k"); tr != tiermem.Hot {
		t.Errorf("in %v, want hot", tr)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("the client went away") }

// TestChunkedPutCutShort: a chunked body whose connection closes in the
// middle of a chunk, or between chunks without the last one, stores
// nothing, whether it was cut in its first 64 KiB or after them (a body
// cut short is not a body that ended).
func TestChunkedPutCutShort(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	must(t, m.Store("k", []byte("old")))
	addr := strings.TrimPrefix(srv.URL, "http://")
	for _, c := range []struct {
		name string
		sent int  // whole chunks of 4 KiB sent
		mid  bool // then half of one more
	}{{"first chunk, mid-chunk", 0, true}, {"small, between chunks", 3, false}, {"small, mid-chunk", 3, true},
		{"past 64 KiB, between chunks", 40, false}, {"past 64 KiB, mid-chunk", 40, true}} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "PUT /v1/keys/k?tier=cold HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n")
		chunk := bytes.Repeat([]byte{'n'}, 4<<10)
		for range c.sent {
			fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk)
		}
		if c.mid {
			fmt.Fprintf(conn, "%x\r\n%s", len(chunk), chunk[:len(chunk)/2])
		}
		conn.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, conn) // the server's answer, if any, then its close
		conn.Close()
		if v, err := m.Retrieve("k"); err != nil || string(v) != "old" {
			t.Errorf("%s: the key holds %d bytes (%v); want the old value", c.name, len(v), err)
			must(t, m.Store("k", []byte("old")))
		}
	}
}
