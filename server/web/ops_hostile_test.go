package web_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	dto "github.com/prometheus/client_model/go"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

// hostileScrape fetches /metrics and parses it with expfmt, by family name.
func hostileScrape(t *testing.T, srv *httptest.Server) map[string]*dto.MetricFamily {
	t.Helper()
	resp, body := do(t, "GET", srv.URL+"/metrics", nil)
	wantStatus(t, resp, body, http.StatusOK, "")
	fams, err := parseText(body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, body)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// hostileSeries names one series of a family by its labels.
func hostileSeries(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// hostileLabelNames is the sorted set of label names of one series.
func hostileLabelNames(m *dto.Metric) string {
	var names []string
	for _, l := range m.GetLabel() {
		names = append(names, l.GetName())
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}

// TestHostileOpsMetricsConsistentAcrossScrapes scrapes /metrics (parsed with
// expfmt) again and again while keys are stored, read, moved, deleted and
// expire, the hot budget is changed (CONFIG SET), analytics is started
// over, RESP commands and clients come and go and HTTP requests are
// served. Every family keeps its type, HELP and label names; tiermem's own
// names follow the conventions (prefix, _total on counters, _bytes and
// _seconds for units, a tier label from the four tiers); no value is
// NaN, infinite or negative; no counter series decreases or vanishes;
// histogram buckets are cumulative and end at the count. (Passing: the
// other tests lint one scrape; none compares scrapes under churn.)
func TestHostileOpsMetricsConsistentAcrossScrapes(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if err := m.EnableAnalytics(15 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	h, err := web.New(m, web.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = h.Metrics().ConnState
	srv.Start()
	t.Cleanup(srv.Close)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		mt := h.Metrics()
		tiers := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			key := fmt.Sprintf("k%d", i%40)
			opts := []tiermem.StoreOption{tiermem.InTier(tiers[i%3])}
			if i%5 == 0 {
				opts = append(opts, tiermem.WithTTL(20*time.Millisecond))
			}
			m.Store(key, make([]byte, 3000+i%7*20000), opts...)
			m.Retrieve(fmt.Sprintf("k%d", (i*7)%40))
			m.Retrieve("missing")
			switch i % 9 {
			case 2:
				m.Move(fmt.Sprintf("k%d", (i+3)%40), tiers[(i/9)%3])
			case 4:
				m.Delete(fmt.Sprintf("k%d", (i+5)%40))
			case 6:
				m.SetBudget(tiermem.Hot, int64(100_000+(i%4)*150_000)) // CONFIG SET tiermem-hot-size
			case 8:
				mt.ClientConnected()
				mt.ObserveCommand([]string{"get", "set", "del"}[i%3], time.Duration(i%50)*time.Microsecond)
				mt.ClientDisconnected()
			}
			if i%150 == 149 {
				m.EnableAnalytics(15 * time.Millisecond) // started over: the samples so far are dropped
			}
			if i%20 == 0 {
				resp, err := srv.Client().Get(srv.URL + []string{"/v1/usage", "/v1/keys/nope", "/v1/biggest?n=0", "/v1/stats"}[(i/20)%4])
				if err == nil {
					resp.Body.Close()
				}
			}
			time.Sleep(200 * time.Microsecond)
		}
	})

	tierNames := map[string]bool{"hot": true, "warm": true, "cold": true, "glacier": true}
	type famInfo struct {
		typ    dto.MetricType
		help   string
		labels string
	}
	fams := map[string]famInfo{}
	counters := map[string]float64{} // family{labels} → the last value
	finite := func(what string, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			t.Errorf("%s = %v", what, v)
		}
	}
	for scrape := range 25 {
		time.Sleep(60 * time.Millisecond)
		got := hostileScrape(t, srv)
		seen := map[string]bool{}
		for name, f := range got {
			if f.GetHelp() == "" {
				t.Errorf("scrape %d: %s has no HELP", scrape, name)
			}
			labels := ""
			for i, mm := range f.GetMetric() {
				ln := hostileLabelNames(mm)
				if i == 0 {
					labels = ln
				} else if ln != labels {
					t.Errorf("scrape %d: %s mixes label sets %q and %q", scrape, name, labels, ln)
				}
			}
			if old, ok := fams[name]; ok {
				if old.typ != f.GetType() || old.help != f.GetHelp() || (old.labels != labels && len(f.GetMetric()) > 0) {
					t.Errorf("scrape %d: %s changed from %v %q {%s} to %v %q {%s}", scrape, name, old.typ, old.help, old.labels, f.GetType(), f.GetHelp(), labels)
				}
			} else {
				fams[name] = famInfo{f.GetType(), f.GetHelp(), labels}
			}
			if strings.HasPrefix(name, "tiermem_") {
				switch {
				case f.GetType() == dto.MetricType_COUNTER && !strings.HasSuffix(name, "_total"):
					t.Errorf("counter %s lacks _total", name)
				case f.GetType() != dto.MetricType_COUNTER && strings.HasSuffix(name, "_total"):
					t.Errorf("%s %s ends in _total", f.GetType(), name)
				case strings.Contains(name, "bytes") && !strings.HasSuffix(name, "_bytes") && !strings.HasSuffix(name, "_bytes_total"):
					t.Errorf("%s: bytes not as the unit suffix", name)
				case f.GetType() == dto.MetricType_HISTOGRAM && !strings.HasSuffix(name, "_seconds"):
					t.Errorf("histogram %s not in seconds", name)
				}
				if strings.HasPrefix(name, "tiermem_tier_") && labels != "tier" {
					t.Errorf("%s has labels {%s}, want {tier}", name, labels)
				}
			}
			for _, mm := range f.GetMetric() {
				id := name + "{" + hostileSeries(mm) + "}"
				for _, l := range mm.GetLabel() {
					if l.GetName() == "tier" && !tierNames[l.GetValue()] {
						t.Errorf("%s: tier %q", id, l.GetValue())
					}
				}
				switch f.GetType() {
				case dto.MetricType_COUNTER:
					v := mm.GetCounter().GetValue()
					finite(id, v)
					if last, ok := counters[id]; ok && v < last {
						t.Errorf("scrape %d: counter %s went down from %v to %v", scrape, id, last, v)
					}
					counters[id] = v
					seen[id] = true
				case dto.MetricType_GAUGE:
					finite(id, mm.GetGauge().GetValue())
				case dto.MetricType_HISTOGRAM:
					hg := mm.GetHistogram()
					finite(id+" sum", hg.GetSampleSum())
					cnt := float64(hg.GetSampleCount())
					if last, ok := counters[id+"_count"]; ok && cnt < last {
						t.Errorf("scrape %d: %s count went down from %v to %v", scrape, id, last, cnt)
					}
					counters[id+"_count"] = cnt
					seen[id+"_count"] = true
					var prevBound float64 = math.Inf(-1)
					var prevCum uint64
					for _, b := range hg.GetBucket() {
						if b.GetUpperBound() <= prevBound || b.GetCumulativeCount() < prevCum || b.GetCumulativeCount() > hg.GetSampleCount() {
							t.Errorf("%s: bucket le=%v count %d after le=%v count %d (total %d)", id, b.GetUpperBound(), b.GetCumulativeCount(), prevBound, prevCum, hg.GetSampleCount())
						}
						prevBound, prevCum = b.GetUpperBound(), b.GetCumulativeCount()
					}
				case dto.MetricType_SUMMARY:
					finite(id+" sum", mm.GetSummary().GetSampleSum())
				}
			}
		}
		for id := range counters {
			if !seen[id] {
				t.Errorf("scrape %d: counter %s vanished", scrape, id)
				delete(counters, id)
			}
		}
		if t.Failed() {
			break
		}
	}
	close(stop)
	wg.Wait()
	for _, want := range []string{"tiermem_tier_used_bytes", "tiermem_tier_capacity_bytes", "tiermem_tier_items", "tiermem_tier_hits_total",
		"tiermem_tier_promotions_total", "tiermem_tier_demotions_total", "tiermem_tier_evictions_total", "tiermem_misses_total",
		"tiermem_request_duration_seconds", "tiermem_connected_clients", "tiermem_client_connections_total", "go_goroutines"} {
		if _, ok := fams[want]; !ok {
			t.Errorf("/metrics never had %s", want)
		}
	}
	if counters[`tiermem_tier_evictions_total{tier=hot}`] == 0 || counters[`tiermem_tier_demotions_total{tier=hot}`] == 0 {
		t.Errorf("the churn evicted nothing from hot: %v", counters)
	}
}

// TestHostileOpsHitsTotalCountsEveryHit: a Manager samples analytics every
// 5 ms into a ring of 4 samples (AnalyticsCapacity); 30 reads of a hot
// key, 10 ms apart, are 30 hits. tiermem_tier_hits_total{tier="hot"} is a
// counter of "reads the tier served, counted by the Manager's analytics
// while it is on" — analytics was on for all 30 — so one scrape after the
// last sample must say 30. It says the hits of the samples the ring still
// held at the scrape: the collector adds up ring samples at scrape time,
// and every sample that left the ring between two scrapes is lost.
func TestHostileOpsHitsTotalCountsEveryHit(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	must(t, m.Store("x", []byte("value"), tiermem.InTier(tiermem.Hot)))
	must(t, m.EnableAnalytics(5*time.Millisecond, tiermem.AnalyticsCapacity(4)))
	hostileScrape(t, srv) // a first scrape: the collector has seen the ring once
	const reads = 30
	for range reads {
		if _, err := m.Retrieve("x"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	last := time.Now()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if s := m.Analytics(); len(s) > 0 && s[len(s)-1].Time.After(last) {
			break // a sample taken after the last read counts it
		}
		if time.Now().After(deadline) {
			t.Fatal("no analytics sample after the reads")
		}
	}
	var got float64 = -1
	for _, mm := range hostileScrape(t, srv)["tiermem_tier_hits_total"].GetMetric() {
		if hostileSeries(mm) == "tier=hot" {
			got = mm.GetCounter().GetValue()
		}
	}
	if got != reads {
		t.Errorf(`tiermem_tier_hits_total{tier="hot"} = %v after %d hits while analytics was on`, got, reads)
	}
}

// TestHostileOpsUnroutedResponsesCounted: tiermem_http_responses_total is
// "HTTP responses, by status code", and /v1/stats' http_requests the HTTP
// requests served. A scanner probing paths that do not exist
// (GET /wp-login.php) gets 404s that neither counts: the mux's catch-all
// route is not instrumented, so an operator cannot see that traffic.
func TestHostileOpsUnroutedResponsesCounted(t *testing.T) {
	_, srv := newServer(t, nil, web.Config{})
	for _, path := range []string{"/wp-login.php", "/v2/usage", "/metrics/x"} {
		resp, body := do(t, "GET", srv.URL+path, nil)
		wantStatus(t, resp, body, http.StatusNotFound, "no such path")
	}
	var got float64
	for _, mm := range hostileScrape(t, srv)["tiermem_http_responses_total"].GetMetric() {
		if hostileSeries(mm) == "code=404" {
			got = mm.GetCounter().GetValue()
		}
	}
	if got != 3 {
		t.Errorf(`tiermem_http_responses_total{code="404"} = %v after three 404 responses`, got)
	}
	var s struct {
		Server struct {
			HTTPRequests int64 `json:"http_requests"`
		} `json:"server"`
	}
	_, body := do(t, "GET", srv.URL+"/v1/stats", nil)
	if err := jsonUnmarshal(body, &s); err != nil || s.Server.HTTPRequests != 4 { // 3 probes and the scrape
		t.Errorf("/v1/stats http_requests %d after 3 probes and a scrape (%v)", s.Server.HTTPRequests, err)
	}
}

// TestHostileOpsWrongMethodIs405: POST or DELETE on /v1/usage, /v1/stats,
// /metrics or /healthz is answered "404 no such path: POST /v1/usage",
// though the path exists; /v1/keys/ answers the same mistake with 405 and
// an Allow header, as RFC 9110 §15.5.6 has it. The catch-all "/" pattern
// of the mux matches every method, so the mux's own 405 never happens.
func TestHostileOpsWrongMethodIs405(t *testing.T) {
	_, srv := newServer(t, nil, web.Config{})
	resp, body := do(t, "POST", keyURL(srv, "k"), nil)
	wantStatus(t, resp, body, http.StatusMethodNotAllowed, "")
	for _, path := range []string{"/v1/usage", "/v1/stats", "/metrics", "/healthz"} {
		resp, body := do(t, "POST", srv.URL+path, strings.NewReader("x"))
		if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(resp.Header.Get("Allow"), "GET") {
			t.Errorf("POST %s: %d, Allow %q: %s", path, resp.StatusCode, resp.Header.Get("Allow"), body)
		}
	}
}

// TestHostileOpsUsageAfterClose: once the Manager is closed, /readyz and
// every key request are 503 ("503 once the Manager is closed"), but
// /v1/usage is a 200 with numbers that are not the Manager's: Close wrote
// the warm key to the cold log, and /v1/usage reports it in both tiers (2
// items for 1 key); the dashboard, which polls it, keeps saying "live".
// /v1/biggest is a 503 only when no listing was made in the 5 seconds
// before: a cached one is served, 200, from a closed Manager.
func TestHostileOpsUsageAfterClose(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	resp, body := do(t, "PUT", keyURL(srv, "only")+"?tier=warm", strings.NewReader(strings.Repeat("w", 5000)))
	wantWritten(t, resp, body)
	resp, body = do(t, "GET", srv.URL+"/v1/biggest", nil) // the dashboard polls it every 5 s
	wantStatus(t, resp, body, http.StatusOK, "")
	must(t, m.Close())
	resp, body = do(t, "GET", keyURL(srv, "only"), nil)
	wantStatus(t, resp, body, http.StatusServiceUnavailable, "closed")
	for _, path := range []string{"/v1/usage", "/v1/biggest"} {
		resp, body = do(t, "GET", srv.URL+path, nil)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s of a closed Manager: %d %s", path, resp.StatusCode, body)
		}
	}
}

// hostileBrowser opens url in headless Chromium in a w × h viewport (a
// phone's, with touch and a device scale of 2, when mobile) and returns
// the tab's context and a function returning the console errors and
// warnings, exceptions and browser log errors seen so far.
func hostileBrowser(t *testing.T, url string, w, h int64, mobile bool) (context.Context, func() []string) {
	t.Helper()
	chromium := findChromium()
	if chromium == "" {
		t.Skip("skipped: no chromium binary on PATH")
	}
	allocOpts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Headless,
		chromedp.DisableGPU, chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(int(w), int(h)))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel)
	problems, err := watchProblems(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if mobile {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h, chromedp.EmulateScale(2), chromedp.EmulateMobile)); err != nil {
			t.Fatalf("chromium (%s): %v", chromium, err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("chromium (%s): %v", chromium, err)
	}
	return ctx, problems
}

// hostilePoll waits up to 20 s for js to be true in the page.
func hostilePoll(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		status, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("status").textContent`))
		t.Fatalf("waiting for %s: %v (status %q)", what, err, status)
	}
}

// TestHostileOpsDashboardHostileKeysOnSmallPhone: the dashboard of an empty
// Manager without analytics, on a 320 px phone, then with keys named to
// break out of HTML, JS and layout (</script>, an onerror handler that
// sets a global, quotes, a backslash, a newline, RTL override and
// zero-width characters, invalid UTF-8, 3000 characters without a
// break). Every table says "no keys" at first and the analytics notes
// show; then each key is shown as text (invalid bytes as U+FFFD, the exact
// bytes in the row's title as the percent-escaped path), no handler runs,
// no element is made of a name, the page never scrolls sideways, and no
// console error or exception occurs. (Passing: TestDashboardBrowser
// checks one hostile name at 390 px with analytics on.)
func TestHostileOpsDashboardHostileKeysOnSmallPhone(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	ctx, problems := hostileBrowser(t, srv.URL+"/", 320, 640, true)
	hostilePoll(t, ctx, "the empty tables", `document.getElementById("status").textContent === "live" &&
		[...document.querySelectorAll("#biggest td")].filter((td) => td.textContent === "no keys").length === 4`)
	notes, err := chromedp.Run(ctx, chromedp.Evaluate[int](`[...document.querySelectorAll(".note")].filter((n) => !n.classList.contains("hidden") && /Analytics is off/.test(n.textContent)).length`))
	if err != nil || notes != 2 {
		t.Errorf("analytics-off notes shown: %d (%v)", notes, err)
	}

	hostile := []string{
		`</script><script>window.__hostilePwned = "script"</script>`,
		`<img src=x onerror="window.__hostilePwned='img'">`,
		`"><svg onload="window.__hostilePwned='svg'">`,
		"q\"uo'te\\back\nline",
		"\u202eevil\u200b\u200d",
		"bad\xff\xfe<b>utf",
		strings.Repeat("W", 3000),
	}
	for i, k := range hostile {
		must(t, m.Store(k, make([]byte, 2000+i*10), tiermem.InTier([]tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold}[i%3])))
	}
	hostilePoll(t, ctx, "the hostile keys", fmt.Sprintf(`document.querySelectorAll("#biggest td.key").length === %d`, len(hostile)))
	time.Sleep(1200 * time.Millisecond) // a few more polls and redraws
	type row struct{ Text, Title string }
	var rows []row
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]map[string]string](`[...document.querySelectorAll("#biggest td.key")].map((td) => ({text: td.textContent, title: td.title}))`))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range got {
		rows = append(rows, row{g["text"], g["title"]})
	}
	for _, k := range hostile {
		want := strings.ToValidUTF8(k, "\uFFFD")
		if k == "bad\xff\xfe<b>utf" {
			want = "bad\uFFFD\uFFFD<b>utf"
		}
		path := "/v1/keys/" + url.PathEscape(k)
		if !slices.Contains(rows, row{want, path}) {
			t.Errorf("key %q not shown as text %q with title %q: rows %q", k, want, path, rows)
		}
	}
	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({pwned: window.__hostilePwned === undefined ? null : window.__hostilePwned,
		made: document.querySelectorAll("#biggest img, #biggest script, #biggest svg, #biggest b").length + document.images.length,
		scroll: document.documentElement.scrollWidth, width: window.innerWidth})`))
	if err != nil {
		t.Fatal(err)
	}
	if state != `{"pwned":null,"made":0,"scroll":320,"width":320}` {
		t.Errorf("after the hostile keys: %s", state)
	}
	for _, p := range problems() {
		t.Error(p)
	}
}

// TestHostileOpsDashboardShowsClosedManager: the dashboard is open when the
// Manager is closed under the server (/readyz now 503, every key request
// 503). Within a few polls the page must stop saying "live"; it keeps
// saying "live" and "updated <now>" forever, since /v1/usage, /v1/stats
// and /v1/analytics still answer 200 (only the biggest-keys table shows
// the 503).
func TestHostileOpsDashboardShowsClosedManager(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	must(t, m.Store("k", make([]byte, 1000), tiermem.InTier(tiermem.Warm)))
	ctx, _ := hostileBrowser(t, srv.URL+"/", 1024, 768, false)
	hostilePoll(t, ctx, "the first data", `document.getElementById("status").textContent === "live" && document.getElementById("warm-items").textContent === "1"`)
	must(t, m.Close())
	resp, body := do(t, "GET", srv.URL+"/readyz", nil)
	wantStatus(t, resp, body, http.StatusServiceUnavailable, "not ready")
	var status string
	for deadline := time.Now().Add(6 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("status").textContent`))
		if err != nil {
			t.Fatal(err)
		}
		if status = s; s != "live" {
			return
		}
	}
	items, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("warm-items").textContent + " warm, " + document.getElementById("cold-items").textContent + " cold"`))
	t.Errorf("6 s after the Manager closed the dashboard still says %q (%s keys for 1)", status, items)
}

// TestHostileOpsDashboardChartsWithClockSkew: the dashboard is viewed from
// a machine whose clock is 10 minutes ahead of the server's (a laptop or
// phone looking at a remote server). The charts plot the server's
// timestamps (the "time" of /v1/usage and /v1/stats, the samples' times)
// against the browser's Date.now() as "now", so every point falls before
// the 5-minute window and the charts stay empty: the usage chart, which
// draws hot's line with the browser's clock right, has not one pixel of
// it. (A browser behind the server hides the newest points past the right
// edge the same way.)
func TestHostileOpsDashboardChartsWithClockSkew(t *testing.T) {
	m, srv := newServer(t, nil, web.Config{})
	must(t, m.Store("k", make([]byte, 5<<20), tiermem.InTier(tiermem.Hot)))
	ctx, problems := hostileBrowser(t, srv.URL+"/", 1024, 768, false)
	hotPixels := func() int { // pixels of hot's colour (#f2674a) in the usage chart
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(() => {
			const c = document.getElementById("c-usage"), d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
			let n = 0;
			for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - 242) < 12 && Math.abs(d[i + 1] - 103) < 12 && Math.abs(d[i + 2] - 74) < 12) n++;
			return n;
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	lines := `document.getElementById("status").textContent === "live" && document.getElementById("hot-items").textContent === "1"`
	hostilePoll(t, ctx, "the first data", lines)
	time.Sleep(2500 * time.Millisecond) // a few points: a line
	if n := hotPixels(); n == 0 {
		t.Fatal("no hot line in the usage chart with the clocks in step")
	}
	skew := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `(() => { const real = Date.now; Date.now = () => real() + 10 * 60 * 1000; })();`})
		return err
	})
	if err := chromedp.Do(ctx, skew, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	hostilePoll(t, ctx, "the first data after the reload", lines)
	time.Sleep(2500 * time.Millisecond)
	if n := hotPixels(); n == 0 {
		t.Error("the usage chart draws nothing when the browser's clock is 10 minutes ahead of the server's")
	}
	for _, p := range problems() {
		t.Error(p)
	}
}
