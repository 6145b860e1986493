package web_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

// mapServer is the baseline: net/http serving a plain map, GET and PUT.
type mapServer struct {
	mu sync.RWMutex // protects m
	m  map[string][]byte
}

func (s *mapServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Path
	switch r.Method {
	case "GET":
		s.mu.RLock()
		v, ok := s.m[key]
		s.mu.RUnlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", fmt.Sprint(len(v)))
		w.Write(v)
	case "PUT":
		v, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		s.mu.Lock()
		s.m[key] = v
		s.mu.Unlock()
		w.WriteHeader(204)
	}
}

const benchValue = 4 << 10
const benchKeys = 1024

// benchTarget is one server under test: a base URL and its client.
type benchTarget struct {
	url    string
	client *http.Client
	body   []byte
}

func newBenchTargets(b *testing.B) (tm, base benchTarget) {
	m, err := tiermem.Open(b.TempDir(), &tiermem.Options{Hot: tiermem.TierOptions{Size: 256 << 20},
		Warm: tiermem.TierOptions{Size: 64 << 20}, Cold: tiermem.TierOptions{Size: 256 << 20}, MigrateInterval: -1, KeepMemoryLimit: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	h, err := web.New(m, web.Config{})
	if err != nil {
		b.Fatal(err)
	}
	body := bytes.Repeat([]byte("v"), benchValue)
	tms := httptest.NewServer(h)
	b.Cleanup(tms.Close)
	bs := httptest.NewServer(&mapServer{m: map[string][]byte{}})
	b.Cleanup(bs.Close)
	tm = benchTarget{url: tms.URL + "/v1/keys/", client: tms.Client(), body: body}
	base = benchTarget{url: bs.URL + "/", client: bs.Client(), body: body}
	for i := range benchKeys {
		tm.do(b, "PUT", i)
		base.do(b, "PUT", i)
	}
	return tm, base
}

// do sends one GET or PUT of key i over the loopback connection.
func (t benchTarget) do(b *testing.B, method string, i int) {
	var body io.Reader
	if method == "PUT" {
		body = bytes.NewReader(t.body)
	}
	req, _ := http.NewRequest(method, t.url+keyNames[i%benchKeys], body)
	resp, err := t.client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 && resp.StatusCode != 204 {
		b.Fatalf("%s: %d", method, resp.StatusCode)
	}
}

var keyNames = func() []string {
	k := make([]string, benchKeys)
	for i := range k {
		k[i] = fmt.Sprintf("key:%06d", i)
	}
	return k
}()

// BenchmarkKeys4KiB serves GETs and PUTs of 4 KiB values over a loopback
// connection, one client, through the Handler (tiermem) and through
// net/http serving a plain map (map), in the same run. The ratio
// sub-benchmarks alternate the two in chunks of 200 requests, so that a
// shared machine's drifting load falls on both alike, and report each
// one's ns/req and the ratio tiermem/map.
func BenchmarkKeys4KiB(b *testing.B) {
	tm, base := newBenchTargets(b)
	for _, method := range []string{"GET", "PUT"} {
		for _, c := range []struct {
			name string
			t    benchTarget
		}{{"tiermem", tm}, {"map", base}} {
			b.Run(method+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(benchValue)
				i := 0
				for b.Loop() {
					c.t.do(b, method, i)
					i++
				}
			})
		}
		b.Run(method+"/ratio", func(b *testing.B) {
			const chunk = 200
			b.SetBytes(2 * chunk * benchValue) // a loop is a chunk of each
			var tmTime, baseTime time.Duration
			var n int
			for b.Loop() {
				start := time.Now()
				for i := range chunk {
					tm.do(b, method, n+i)
				}
				mid := time.Now()
				for i := range chunk {
					base.do(b, method, n+i)
				}
				tmTime += mid.Sub(start)
				baseTime += time.Since(mid)
				n += chunk
			}
			b.ReportMetric(float64(tmTime.Nanoseconds())/float64(n), "tiermem-ns/req")
			b.ReportMetric(float64(baseTime.Nanoseconds())/float64(n), "map-ns/req")
			b.ReportMetric(float64(tmTime)/float64(baseTime), "ratio")
		})
	}
}
