package web_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

func TestUsageAndStats(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	do(t, "PUT", keyURL(srv, "a")+"?tier=hot", strings.NewReader(strings.Repeat("a", 1000)))
	do(t, "PUT", keyURL(srv, "b")+"?tier=cold", strings.NewReader("b"))
	if err := m.Move("a", tiermem.Warm); err != nil {
		t.Fatal(err)
	}
	var u struct {
		Time  time.Time
		Tiers []struct {
			Tier                     string
			UsedBytes, CapacityBytes int64 `json:"-"`
			Used                     int64 `json:"used_bytes"`
			Capacity                 int64 `json:"capacity_bytes"`
			Percent                  float64
			Items                    int64
		}
	}
	resp, body := do(t, "GET", srv.URL+"/v1/usage", nil)
	wantStatus(t, resp, body, 200, "")
	if err := jsonUnmarshal(body, &u); err != nil || len(u.Tiers) != 4 || time.Since(u.Time) > time.Minute {
		t.Fatalf("usage: %s, %v", body, err)
	}
	want := m.Usage()
	for i, tu := range u.Tiers {
		tr := tiermem.Tier(i)
		if tu.Tier != tr.String() || tu.Items != want[tr].Items || tu.Used != want[tr].Used || tu.Capacity != want[tr].Capacity {
			t.Fatalf("usage of %s: %+v, Manager says %+v", tr, tu, want[tr])
		}
	}
	if u.Tiers[1].Items != 1 || u.Tiers[2].Items != 1 || u.Tiers[1].Capacity != 128<<20 {
		t.Fatalf("usage: %s", body)
	}
	var s struct {
		Tiers []struct {
			Tier                                         string
			Promotions, Demotions, Evictions, Expiration int64
		}
		Server struct {
			HTTPRequests int64 `json:"http_requests"`
		}
	}
	resp, body = do(t, "GET", srv.URL+"/v1/stats", nil)
	wantStatus(t, resp, body, 200, "")
	if err := jsonUnmarshal(body, &s); err != nil || len(s.Tiers) != 4 || s.Tiers[0].Demotions != 1 || s.Server.HTTPRequests != 3 {
		t.Fatalf("stats: %s, %v", body, err)
	}
}

func TestAnalytics(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	resp, body := do(t, "GET", srv.URL+"/v1/analytics", nil)
	wantStatus(t, resp, body, 200, "")
	if samples, err := tiermem.ReadAnalytics(bytes.NewReader(body)); err != nil || len(samples) != 0 {
		t.Fatalf("analytics before EnableAnalytics: %d samples, %v", len(samples), err)
	}
	if err := m.EnableAnalytics(20 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	do(t, "PUT", keyURL(srv, "k"), strings.NewReader("v"))
	do(t, "GET", keyURL(srv, "k"), nil)
	do(t, "GET", keyURL(srv, "missing"), nil)
	time.Sleep(100 * time.Millisecond)
	_, body = do(t, "GET", srv.URL+"/v1/analytics", nil)
	all, err := tiermem.ReadAnalytics(bytes.NewReader(body))
	if err != nil || len(all) < 3 {
		t.Fatalf("analytics: %d samples, %v", len(all), err)
	}
	var hits, misses int64
	for _, s := range all {
		hits, misses = hits+s.Hits, misses+s.Misses
	}
	if hits != 1 || misses != 1 {
		t.Fatalf("analytics counted %d hits and %d misses, want 1 and 1", hits, misses)
	}
	// ?since keeps the newer samples, in the same schema.
	since := all[len(all)-2].Time
	_, body = do(t, "GET", srv.URL+"/v1/analytics?since="+since.Format(time.RFC3339Nano), nil)
	newer, err := tiermem.ReadAnalytics(bytes.NewReader(body))
	if err != nil || len(newer) == 0 || !newer[0].Time.Equal(all[len(all)-1].Time) {
		t.Fatalf("analytics ?since: %d samples, %v; body %.300s", len(newer), err, body)
	}
	_, body = do(t, "GET", srv.URL+"/v1/analytics?since="+time.Now().Add(time.Hour).Format(time.RFC3339Nano), nil)
	if none, err := tiermem.ReadAnalytics(bytes.NewReader(body)); err != nil || len(none) != 0 {
		t.Fatalf("analytics ?since the future: %d samples, %v", len(none), err)
	}
}

func TestHealthAndPprof(t *testing.T) {
	_, srv := newServer(t, nil, web.Config{})
	for _, path := range []string{"/healthz", "/readyz", "/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/heap?debug=1", "/debug/pprof/goroutine?debug=1"} {
		resp, body := do(t, "GET", srv.URL+path, nil)
		wantStatus(t, resp, body, 200, "")
	}
	_, body := do(t, "GET", srv.URL+"/debug/pprof/", nil)
	if !strings.Contains(string(body), "goroutine") {
		t.Fatalf("pprof index: %.200s", body)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := tiermem.Open(t.TempDir(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	h, err := web.New(m, web.Config{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := web.New(m, web.Config{Registerer: reg}); err == nil {
		t.Fatal("a second Handler registered the same metrics into one registry")
	}
	m.EnableAnalytics(10 * time.Millisecond)
	srv := newTestServer(t, h)
	do(t, "PUT", keyURL(srv, "k")+"?tier=hot", strings.NewReader(strings.Repeat("x", 4096)))
	do(t, "GET", keyURL(srv, "k"), nil)
	do(t, "GET", keyURL(srv, "k"), nil)
	do(t, "GET", keyURL(srv, "nope"), nil)
	m.Move("k", tiermem.Cold)
	mt := h.Metrics()
	mt.ClientConnected()
	mt.ClientConnected()
	mt.ClientDisconnected()
	mt.ObserveCommand("get", 30*time.Microsecond)
	mt.ObserveCommand("set", 2*time.Millisecond)
	time.Sleep(50 * time.Millisecond)

	problems, err := testutil.CollectAndLint(mt)
	if err != nil || len(problems) != 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
	if n := testutil.CollectAndCount(mt, "tiermem_tier_used_bytes", "tiermem_tier_items"); n != 8 {
		t.Fatalf("%d used and items series, want 8 (4 tiers)", n)
	}
	if n := testutil.CollectAndCount(mt, "tiermem_tier_capacity_bytes"); n != 3 {
		t.Fatalf("%d capacity series, want 3: glacier has no budget", n)
	}
	problems, err = testutil.GatherAndLint(reg) // the Registerer got the same
	if err != nil || len(problems) != 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
	resp, body := do(t, "GET", srv.URL+"/metrics", nil)
	wantStatus(t, resp, body, 200, "")
	text := string(body)
	for _, want := range []string{
		`tiermem_tier_used_bytes{tier="cold"}`,
		`tiermem_tier_capacity_bytes{tier="hot"} 2.68435456e+08`,
		`tiermem_tier_items{tier="cold"} 1`,
		`tiermem_tier_demotions_total{tier="hot"} 1`,
		`tiermem_tier_promotions_total{tier="glacier"} 0`,
		`tiermem_tier_evictions_total{tier="warm"} 0`,
		`tiermem_tier_expirations_total{tier="hot"} 0`,
		`tiermem_tier_hits_total{tier="hot"} 2`,
		`tiermem_misses_total 1`,
		`tiermem_migration_passes_total 0`,
		`tiermem_connected_clients{protocol="resp"} 1`,
		`tiermem_client_connections_total{protocol="resp"} 2`,
		`tiermem_request_duration_seconds_count{command="get",protocol="resp"} 1`,
		`tiermem_request_duration_seconds_count{command="set",protocol="resp"} 1`,
		`tiermem_request_duration_seconds_count{command="get",protocol="http"} 3`,
		`tiermem_request_duration_seconds_count{command="put",protocol="http"} 1`,
		`tiermem_http_responses_total{code="404"} 1`,
		`go_goroutines`, `go_gc_duration_seconds`, `process_resident_memory_bytes`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(text, `tiermem_tier_capacity_bytes{tier="glacier"}`) {
		t.Error("/metrics has a capacity for glacier, which has no budget")
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", text)
	}
	// Lint the handler's own registry too, as /metrics serves it.
	problems, err = testutil.GatherAndLint(prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return parseText(body) }))
	if err != nil || len(problems) != 0 {
		t.Fatalf("lint of /metrics: %v %v", problems, err)
	}
}

func TestMetricsHTTPConnections(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	h, _ := web.New(m, web.Config{})
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = h.Metrics().ConnState
	srv.Start()
	defer srv.Close()
	_, body := do(t, "GET", srv.URL+"/metrics", nil) // one keep-alive connection, open
	for _, want := range []string{`tiermem_connected_clients{protocol="http"} 1`, `tiermem_client_connections_total{protocol="http"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	var s struct {
		Server struct {
			HTTPClients int64 `json:"http_clients"`
		}
	}
	_, body = do(t, "GET", srv.URL+"/v1/stats", nil)
	if jsonUnmarshal(body, &s); s.Server.HTTPClients != 1 {
		t.Errorf("/v1/stats: %s", body)
	}
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, body = do(t, "GET", srv.URL+"/metrics", nil) // a new connection: 1 open again
		// A second connection was counted, and the first one's close.
		if !strings.Contains(string(body), "tiermem_client_connections_total{protocol=\"http\"} 1\n") &&
			strings.Contains(string(body), `tiermem_connected_clients{protocol="http"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a closed connection:\n%s", body)
		}
		http.DefaultClient.CloseIdleConnections()
		time.Sleep(20 * time.Millisecond)
	}
}

func TestMetricsWithoutAnalytics(t *testing.T) {
	_, srv := newServer(t, nil, web.Config{})
	do(t, "GET", keyURL(srv, "nope"), nil)
	_, body := do(t, "GET", srv.URL+"/metrics", nil)
	if strings.Contains(string(body), "tiermem_misses_total") || strings.Contains(string(body), "tiermem_tier_hits_total") {
		t.Fatal("hits and misses exported while analytics never ran: they would be made-up zeros")
	}
}

func TestMetricsCommandNamesBounded(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	h, _ := web.New(m, web.Config{})
	for i := range 1000 {
		h.Metrics().ObserveCommand("cmd"+strings.Repeat("x", i%500)+string(rune('a'+i%26)), time.Microsecond)
	}
	srv := newTestServer(t, h)
	_, body := do(t, "GET", srv.URL+"/metrics", nil)
	if n := strings.Count(string(body), `tiermem_request_duration_seconds_count{command=`); n > 257 {
		t.Fatalf("%d command series: unbounded", n)
	}
	if !strings.Contains(string(body), `command="other",protocol="resp"`) {
		t.Fatal("no other series")
	}
}

func TestObserveCommandAllocs(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	h, _ := web.New(m, web.Config{})
	mt := h.Metrics()
	buf := []byte("get")
	name := unsafe.String(&buf[0], len(buf)) // over reused bytes, as a RESP parser may have it
	mt.ObserveCommand(name, time.Microsecond)
	allocs := testing.AllocsPerRun(1000, func() {
		mt.ObserveCommand(name, time.Microsecond)
		mt.ClientConnected()
		mt.ClientDisconnected()
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per command", allocs)
	}
	// The series kept its own copy of the name.
	copy(buf, "xyz")
	srv := newTestServer(t, h)
	_, body := do(t, "GET", srv.URL+"/metrics", nil)
	// 1002: the first call, AllocsPerRun's warm-up run and its 1000.
	if !strings.Contains(string(body), `tiermem_request_duration_seconds_count{command="get",protocol="resp"} 1002`) {
		t.Fatalf("the get series after its name's bytes changed:\n%s", body)
	}
}

// TestUsageShowsAStreamInFlight: while a large PUT's body is still coming,
// its room is held in its tier: /v1/usage shows it as streaming_bytes and
// /metrics as tiermem_tier_streaming_bytes; once the PUT ends, both are 0
// and the value is stored whole.
func TestUsageShowsAStreamInFlight(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	const size = 1 << 20
	body, w := io.Pipe()
	put := make(chan error, 1)
	go func() {
		req, err := http.NewRequest("PUT", keyURL(srv, "big")+"?tier=hot", body)
		if err == nil {
			req.ContentLength = size
			var resp *http.Response
			if resp, err = http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("PUT: %s", resp.Status)
				}
			}
		}
		put <- err
	}()
	if _, err := w.Write(make([]byte, 4096)); err != nil { // the server is reading the body
		t.Fatal(err)
	}
	streaming := func() int64 {
		var u struct {
			Tiers []struct {
				Streaming int64 `json:"streaming_bytes"`
			}
		}
		resp, b := do(t, "GET", srv.URL+"/v1/usage", nil)
		wantStatus(t, resp, b, 200, "")
		if err := jsonUnmarshal(b, &u); err != nil || len(u.Tiers) != 4 {
			t.Fatalf("usage: %s, %v", b, err)
		}
		return u.Tiers[tiermem.Hot].Streaming
	}
	for deadline := time.Now().Add(10 * time.Second); streaming() < size; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("/v1/usage shows %d streaming bytes in hot during a %d-byte PUT", streaming(), size)
		}
	}
	if _, metrics := do(t, "GET", srv.URL+"/metrics", nil); !regexp.MustCompile(`(?m)^tiermem_tier_streaming_bytes\{tier="hot"\} 1\.0\d*e\+06$`).Match(metrics) {
		t.Errorf("/metrics during the PUT has no tiermem_tier_streaming_bytes for hot of about 1e6:\n%s", grepLines(metrics, "streaming"))
	}
	if _, err := w.Write(make([]byte, size-4096)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := <-put; err != nil {
		t.Fatal(err)
	}
	if n := streaming(); n != 0 {
		t.Errorf("/v1/usage shows %d streaming bytes after the PUT", n)
	}
	if got, err := m.Retrieve("big"); err != nil || len(got) != size {
		t.Errorf("big: %d bytes, %v", len(got), err)
	}
}

// grepLines returns the lines of b that contain s.
func grepLines(b []byte, s string) string {
	var out []string
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
