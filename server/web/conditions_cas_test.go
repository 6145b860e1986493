package web_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/tiermem/tiermem/server/web"
)

// TestHTTPCompareAndSet: clients increment one counter with GET
// then PUT If-Match (the ETag they read), retrying on 412, with bodies
// sent with a Content-Length and in chunks, small and past 64 KiB (padded
// values: streamed, staged), into every tier: no increment is lost, and
// exactly one PUT with If-None-Match: * created the key (201).
func TestHTTPCompareAndSet(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	u := keyURL(srv, "n")
	const workers, each = 4, 12
	var created sync.Map
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			resp, body := do(t, http.MethodPut, u+"?tier=warm", bytes.NewReader(counter(0, 0)), "If-None-Match", "*")
			switch resp.StatusCode {
			case http.StatusCreated:
				created.Store(w, true)
			case http.StatusPreconditionFailed:
			default:
				t.Errorf("create-only PUT: %s %s", resp.Status, body)
				return
			}
			tiers := []string{"hot", "warm", "cold", "glacier"}
			for done, try := 0, 0; done < each; try++ {
				get, v := do(t, http.MethodGet, u, nil)
				if get.StatusCode != http.StatusOK {
					t.Errorf("GET: %s %s", get.Status, v)
					return
				}
				n, _ := strconv.Atoi(string(bytes.TrimRight(v[:20], " ")))
				pad := 0
				if try%2 == 1 {
					pad = 100 << 10
				}
				next := counter(n+1, pad)
				var r io.Reader = bytes.NewReader(next)
				if try%3 == 0 {
					r = io.MultiReader(r) // no length: chunked
				}
				req, _ := http.NewRequest(http.MethodPut, u+"?tier="+tiers[try%len(tiers)], r)
				req.Header.Set("If-Match", get.Header.Get("ETag"))
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusNoContent:
					done++
				case http.StatusPreconditionFailed:
				default:
					t.Errorf("PUT If-Match: %s %s", resp.Status, body)
					return
				}
			}
		})
	}
	wg.Wait()
	n := 0
	created.Range(func(any, any) bool { n++; return true })
	if n != 1 {
		t.Errorf("%d create-only PUTs answered 201, want 1", n)
	}
	v, err := m.Retrieve("n")
	if err != nil || string(bytes.TrimRight(v[:20], " ")) != fmt.Sprint(workers*each) {
		t.Errorf("counter = %.20q, %v; want %d", v, err, workers*each)
	}
}

// counter is n in 20 bytes, padded with pad spaces.
func counter(n, pad int) []byte {
	return fmt.Appendf(nil, "%-20d%s", n, bytes.Repeat([]byte(" "), pad))
}
