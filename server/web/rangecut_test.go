package web_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/tiermem/tiermem/server/web"
)

// TestCutMultiRangeReply: clients that ask for many ranges of a value
// (a multipart reply, which http.ServeContent writes from a goroutine of
// its own) and hang up after its first bytes, while others read and write
// values through the same pooled buffers: under -race, no read of a
// buffer after it went back to the pool, and every whole reply is right.
func TestCutMultiRangeReply(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	value := bytes.Repeat([]byte("0123456789abcdef"), 3<<10) // 48 KiB: a pooled buffer
	must(t, m.Store("v", value))
	ranges := make([]string, 400)
	for i := range ranges {
		ranges[i] = fmt.Sprintf("%d-%d", i*100, i*100+50)
	}
	header := "bytes=" + strings.Join(ranges, ",")
	addr := strings.TrimPrefix(srv.URL, "http://")
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(2)
		go func() { // cut replies
			defer wg.Done()
			for range 20 {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Error(err)
					return
				}
				fmt.Fprintf(c, "GET /v1/keys/v HTTP/1.1\r\nHost: localhost\r\nRange: %s\r\n\r\n", header)
				bufio.NewReader(c).Peek(100)
				c.Close()
			}
		}()
		go func() { // whole replies through the same pool
			defer wg.Done()
			key := fmt.Sprint("w", g)
			for i := range 40 {
				want := bytes.Repeat([]byte{byte('a' + i%26)}, 40<<10)
				resp, body := do(t, http.MethodPut, keyURL(srv, key), bytes.NewReader(want))
				if resp.StatusCode/100 != 2 {
					t.Errorf("PUT: %s %s", resp.Status, body)
					return
				}
				if _, got := do(t, http.MethodGet, keyURL(srv, key), nil); !bytes.Equal(got, want) {
					t.Errorf("GET %s: wrong bytes", key)
					return
				}
			}
		}()
	}
	wg.Wait()
}
