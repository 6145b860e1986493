package web_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

// TestHostileOverHTTP2 (passing, kept as coverage: nothing else runs
// the handler over HTTP/2, which tiermem serve offers whenever it serves
// TLS): over HTTP/2, sized and unsized PUTs into every tier store the
// value; GET, a Range and several ranges serve it; a client that cancels
// its PUT mid-body leaves the old value and no room held; a body that
// stalls is ended by BodyIdleTimeout (408), giving back its room.
func TestHostileOverHTTP2(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	h, err := web.New(m, web.Config{BodyIdleTimeout: time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	c := srv.Client()
	send := func(req *http.Request) (*http.Response, []byte) {
		t.Helper()
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.ProtoMajor != 2 {
			t.Fatalf("%s %s over %s, want HTTP/2", req.Method, req.URL, resp.Proto)
		}
		return resp, b
	}
	streaming := func() (n int64) {
		for _, u := range m.Usage() {
			n += u.Streaming
		}
		return n
	}
	v := make([]byte, 3<<20)
	rand.Read(v)
	for _, tr := range []string{"hot", "warm", "cold", "glacier"} {
		for _, sized := range []bool{true, false} {
			var body io.Reader = bytes.NewReader(v)
			if !sized {
				body = io.MultiReader(body) // no length: sent in DATA frames without a Content-Length
			}
			req, _ := http.NewRequest(http.MethodPut, srv.URL+"/v1/keys/k?tier="+tr, body)
			if resp, b := send(req); resp.StatusCode/100 != 2 {
				t.Fatalf("PUT into %s (sized %v): %s %s", tr, sized, resp.Status, b)
			}
			if got, err := m.Tier("k"); err != nil || got.String() != tr {
				t.Errorf("PUT ?tier=%s: in %v, %v", tr, got, err)
			}
			for _, c := range []struct {
				rng    string
				status int
				want   []byte
			}{
				{"", http.StatusOK, v},
				{"bytes=100-199", http.StatusPartialContent, v[100:200]},
				{"bytes=-5", http.StatusPartialContent, v[len(v)-5:]},
			} {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/keys/k", nil)
				if c.rng != "" {
					req.Header.Set("Range", c.rng)
				}
				if resp, b := send(req); resp.StatusCode != c.status || !bytes.Equal(b, c.want) {
					t.Errorf("GET %q from %s: %s, %d bytes", c.rng, tr, resp.Status, len(b))
				}
			}
			req, _ = http.NewRequest(http.MethodGet, srv.URL+"/v1/keys/k", nil)
			req.Header.Set("Range", "bytes=0-1,10-11")
			if resp, b := send(req); resp.StatusCode != http.StatusPartialContent || !bytes.Contains(b, v[10:12]) {
				t.Errorf("GET of two ranges from %s: %s, %d bytes", tr, resp.Status, len(b))
			}
		}
	}
	// Cancelled mid-body: nothing stored, nothing held.
	var keys []string
	for _, tr := range []string{"hot", "warm", "cold", "glacier"} {
		for _, sized := range []bool{true, false} {
			key := fmt.Sprintf("cut-%s-%v", tr, sized)
			keys = append(keys, key)
			if err := m.Store(key, []byte("old")); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			pr, pw := io.Pipe()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPut, srv.URL+"/v1/keys/"+key+"?tier="+tr, pr)
			if sized {
				req.ContentLength = 8 << 20
			}
			go func() {
				pw.Write(make([]byte, 1<<20))
				cancel()
				pw.CloseWithError(context.Canceled)
			}()
			if resp, err := c.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	}
	// The handlers see the cancels a moment later (BodyIdleTimeout would
	// end them within a second in any case).
	time.Sleep(1500 * time.Millisecond)
	for _, key := range keys {
		if got, err := m.Retrieve(key); err != nil || string(got) != "old" {
			t.Errorf("PUT %s cancelled mid-body: the key holds %d bytes (%v), want the old value", key, len(got), err)
		}
	}
	if n := streaming(); n != 0 {
		t.Errorf("PUTs cancelled mid-body: %d bytes of room still held", n)
	}
	// A stalled body: 408 after BodyIdleTimeout, its room given back.
	pr, pw := io.Pipe()
	defer pw.Close()
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/v1/keys/stall?tier=hot", pr)
	req.ContentLength = 8 << 20
	done := make(chan *http.Response, 1)
	go func() {
		resp, err := c.Do(req)
		if err != nil {
			resp = nil
		}
		done <- resp
	}()
	pw.Write(make([]byte, 64<<10))
	deadline := time.Now().Add(5 * time.Second)
	for streaming() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if streaming() == 0 {
		t.Fatal("the stalled PUT never held room")
	}
	stalled := time.Now()
	for streaming() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := streaming(); n != 0 {
		t.Errorf("a body stalled over HTTP/2 still holds %d bytes of room after 5 s (BodyIdleTimeout 1 s)", n)
	}
	t.Logf("room given back %v after the body stalled", time.Since(stalled).Round(time.Millisecond))
	pw.CloseWithError(io.ErrUnexpectedEOF)
	if resp := <-done; resp == nil || resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("a stalled body over HTTP/2: %v, want 408", resp)
	} else {
		resp.Body.Close()
	}
	if _, err := m.Retrieve("stall"); err == nil {
		t.Errorf("the stalled PUT stored a value")
	}
}
