package web_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

// TestFailedPutKeepsTheValue: a PUT that fails — a body shorter
// than its Content-Length bound for any tier (TestPutStreamedShort covers
// cold only), a value too large for the tier it names, with and without a
// Content-Length — is an error reply and leaves the key's acknowledged
// value where it was.
func TestFailedPutKeepsTheValue(t *testing.T) {
	opts := testOptions()
	opts.Hot.Size = 4 << 20
	m, srv := newServer(t, opts, web.Config{})
	for _, tier := range []string{"hot", "warm", "cold", "glacier", ""} {
		key := "k-" + tier
		must(t, m.Store(key, []byte("old"), tiermem.InTier(tiermem.Warm)))
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		query := ""
		if tier != "" {
			query = "?tier=" + tier
		}
		fmt.Fprintf(c, "PUT /v1/keys/%s%s HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n", key, query, 1<<20)
		c.Write(bytes.Repeat([]byte("n"), 300<<10))
		c.(*net.TCPConn).CloseWrite()
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		reply, _ := io.ReadAll(c)
		c.Close()
		status, _, _ := strings.Cut(string(reply), "\r\n")
		if !strings.Contains(status, " 400 ") {
			t.Errorf("PUT%s of 300 KiB of a promised 1 MiB: %q; want 400", query, status)
		}
		if v, err := m.Retrieve(key); err != nil || string(v) != "old" {
			t.Errorf("PUT%s cut short: the key holds %.20q, %v; want %q", query, v, err, "old")
		}
		if tr, _ := m.Tier(key); tr != tiermem.Warm {
			t.Errorf("PUT%s cut short: the key moved to %v", query, tr)
		}
	}
	must(t, m.Store("big", []byte("old"), tiermem.InTier(tiermem.Hot)))
	for _, chunked := range []bool{false, true} {
		var body io.Reader = bytes.NewReader(make([]byte, 5<<20))
		if chunked {
			body = io.MultiReader(body)
		}
		resp, rb := do(t, http.MethodPut, keyURL(srv, "big")+"?tier=hot", body)
		wantStatus(t, resp, rb, http.StatusRequestEntityTooLarge, "too large")
		if v, err := m.Retrieve("big"); err != nil || string(v) != "old" {
			t.Errorf("PUT of 5 MiB into a 4 MiB hot tier (chunked %v): the key holds %.20q, %v", chunked, v, err)
		}
	}
}

// TestAnnouncedBodyIsNotAllocatedAhead: an array PUT that announces a
// 512 MiB body and sends 1 KiB of it allocates megabytes, not the 512 MiB
// announced (a client could otherwise make the server hold its body limit
// per connection by sending headers alone); a 20 MiB array PUT, read as
// it comes, is stored whole.
func TestAnnouncedBodyIsNotAllocatedAhead(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{MaxBodyBytes: 1 << 30})
	pr, pw := io.Pipe()
	go func() {
		pw.Write(make([]byte, 1<<10))
		pw.CloseWithError(errors.New("the client went away"))
	}()
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/v1/arrays/a", pr)
	req.ContentLength = 512 << 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if resp, err := srv.Client().Do(req); err == nil {
		resp.Body.Close()
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("a PUT announcing 512 MiB and sending 1 KiB allocated %d MiB", alloc>>20)
	}
	data := make([]byte, 20<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	resp, body := do(t, http.MethodPut, srv.URL+"/v1/arrays/a", bytes.NewReader(npyFile("|u1", fmt.Sprintf("(%d,)", len(data)), data)))
	wantWritten(t, resp, body)
	a, err := m.RetrieveArray("a")
	if err != nil || !bytes.Equal(a.Data, data) {
		t.Errorf("the 20 MiB array read back: %d bytes, %v", len(a.Data), err)
	}
}
