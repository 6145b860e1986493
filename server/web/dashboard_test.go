package web_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server/web"
)

// artifactDir is where the browser test writes its screenshots:
// $TIERMEM_TEST_ARTIFACTS when set, else a directory the test removes.
func artifactDir(t *testing.T) string {
	if dir := os.Getenv("TIERMEM_TEST_ARTIFACTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

// findChromium returns the path of a Chromium or Chrome binary, or "".
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func TestDashboardServed(t *testing.T) {
	_, srv := newServer(t, nil, web.Config{})
	resp, body := do(t, "GET", srv.URL+"/", nil)
	wantStatus(t, resp, body, 200, "")
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Fatalf("Content-Security-Policy %q", csp)
	}
	page := string(body)
	for _, external := range []string{"http://", "https://", "//cdn", "src=\"", "<link"} {
		if strings.Contains(page, external) {
			t.Errorf("the page references %q: it must fetch nothing from elsewhere", external)
		}
	}
	if strings.Contains(page, "innerHTML") {
		t.Error("the page uses innerHTML: text must go in through textContent")
	}
}

// TestDashboardBrowser loads the dashboard in headless Chromium: it must
// run without a console message of level error or warning nor an
// exception, show the tiers' numbers, change them once data is stored, and
// fit a phone's width. It saves screenshots (dashboard.png, and
// dashboard-phone.png at 390 × 844) to artifactDir.
func TestDashboardBrowser(t *testing.T) {
	chromium := findChromium()
	if chromium == "" {
		t.Skip("skipped: no chromium binary on PATH (apt-get install chromium; make deps does)")
	}
	opts := testOptions()
	m, err := tiermem.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.EnableAnalytics(250 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	h, err := web.New(m, web.Config{Password: "dash-pw"})
	if err != nil {
		t.Fatal(err)
	}
	srv := newTestServer(t, h)

	allocOpts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Headless,
		chromedp.DisableGPU, chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 1000))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	problemsSoFar, err := watchProblems(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The page's own fetches carry the password, as a browser's basic auth would.
	auth := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
			Headers: network.Headers{"Authorization": "Bearer dash-pw"}})
		return err
	})
	if err := chromedp.Do(ctx, auth, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatalf("chromium (%s): %v", chromium, err)
	}
	text := func(id string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf("(document.getElementById(%q)||{}).textContent||''", id)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	waitFor := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
			t.Fatalf("waiting for %s (%s): %v; status %q", what, js, err, text("status"))
		}
	}
	waitFor("the first data", `document.getElementById("status").textContent === "live" && !!document.getElementById("hot-items")`)
	if got := text("hot-items"); got != "0" {
		t.Fatalf("hot items before any Store: %q", got)
	}
	if got := text("glacier-of"); got != " (no budget)" {
		t.Fatalf("glacier: %q", got)
	}

	// Store, read and move data through the API while the page polls.
	client := srv.Client()
	put := func(key, query string, n int) {
		req, _ := newRequest("PUT", keyURL(srv, key)+query, strings.NewReader(strings.Repeat("v", n)))
		req.Header.Set("Authorization", "Bearer dash-pw")
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusNoContent {
			t.Fatalf("PUT %s: %v %v", key, resp, err)
		}
		resp.Body.Close()
	}
	// Traffic for a few seconds, so that the charts have lines: 40 keys
	// into hot, 12 into cold, reads (hits and misses), 10 moves to warm.
	for i := range 40 {
		put(fmt.Sprintf("user:%d", i), "?tier=hot", 2000+i*900)
		if i%8 == 0 {
			time.Sleep(150 * time.Millisecond)
		}
		for j := range 5 + i {
			m.Retrieve(fmt.Sprintf("user:%d", (i+j)%50))
		}
	}
	for i := range 12 {
		put(fmt.Sprintf("archive/%d", i), "?tier=cold", 30000)
		time.Sleep(100 * time.Millisecond)
		for j := range 30 {
			m.Retrieve(fmt.Sprintf("user:%d", (i*7+j)%45))
		}
		if i < 10 {
			m.Move(fmt.Sprintf("user:%d", i), tiermem.Warm)
		}
	}
	hostile := "<img src=x onerror=alert(1)>"
	put(hostile, "?tier=hot", 100000) // hot's biggest key
	waitFor("the stored keys", `document.getElementById("hot-items").textContent === "31" && document.getElementById("cold-items").textContent === "12"`)
	waitFor("a hit rate", `/%$/.test(document.getElementById("hitrate-now").textContent)`)
	waitFor("a latency", `/^p99 /.test(document.getElementById("latency-now").textContent)`)
	if got := text("warm-items"); got != "10" {
		t.Fatalf("warm items: %q", got)
	}
	if got := text("hot-used"); got == "0 B" || got == "–" {
		t.Fatalf("hot used: %q", got)
	}
	// The biggest keys: the hostile name is in hot's table, as text (no
	// element made of it), and cold's table lists its keys.
	waitFor("the biggest keys", fmt.Sprintf(`[...document.querySelectorAll("#biggest td.key")].some((td) => td.textContent === %q)`, hostile))
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#biggest img, #biggest script").length + document.images.length`)); err != nil || n != 0 {
		t.Fatalf("the hostile key made %d elements (%v)", n, err)
	}
	first, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#biggest table")].map((t) => t.querySelector("caption").textContent + ": " + t.querySelector("tbody td").textContent)`))
	if err != nil || len(first) != 4 || first[0] != "hot: "+hostile || !strings.HasPrefix(first[2], "cold: archive/") || first[3] != "glacier: no keys" {
		t.Fatalf("the tables' first keys: %q (%v)", first, err)
	}
	time.Sleep(1500 * time.Millisecond) // a few more points on the charts

	dir := artifactDir(t)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dashboard.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}

	// A phone: no horizontal scrolling, every card readable.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1200 * time.Millisecond)
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	if err != nil || overflow {
		t.Fatalf("the page is wider than a phone (390 px): %v", err)
	}
	png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dashboard-phone.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)

	for _, p := range problemsSoFar() {
		t.Error(p)
	}
}

// watchProblems records what a page must not show: console errors,
// warnings and failed asserts, exceptions, and the browser's log errors
// and warnings. It returns a function that gives those seen so far.
func watchProblems(ctx context.Context) (func() []string, error) {
	var mu sync.Mutex
	var problems []string
	err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				problems = append(problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			desc := d.Text
			if d.Exception != nil {
				desc += " " + d.Exception.Description
			}
			problems = append(problems, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber, desc))
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				problems = append(problems, fmt.Sprintf("browser log %s: %s %s", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL))
			}
		}
	})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(problems)
	}, err
}
