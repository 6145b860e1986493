package main

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// hostileDoc builds a one-tier or two-tier analytics document from samples
// given as raw JSON fragments for the hot tier.
func hostileDoc(samples ...string) string {
	return `{"format":"tiermem-analytics","version":1,"tiers":["hot"],"samples":[` + strings.Join(samples, ",") + `]}`
}

// hostileSample writes one sample of ten reads whose hits agree with
// hitRate (none for "null"), as ReadAnalytics requires.
func hostileSample(ts string, intervalNS int64, hitRate string, percent string, lat string) string {
	hits, misses := 0, 0
	if r, err := strconv.ParseFloat(hitRate, 64); err == nil {
		hits = int(math.Round(r * 10))
		misses = 10 - hits
	}
	return fmt.Sprintf(`{"time":%q,"interval_ns":%d,"hits":%d,"misses":%d,"hit_rate":%s,"tiers":[{"tier":"hot","used_bytes":10,"capacity_bytes":100,"percent":%s,"items":1,"hits":%d,"hit_rate":%s,"promotions":3,"demotions":2,"evictions":1,"expirations":1,"retrieve_ns":%s,"store_ns":%s}]}`,
		ts, intervalNS, hits, misses, hitRate, percent, hits, hitRate, lat, lat)
}

// runPlotGuarded runs runPlot in a goroutine and fails if it does not end
// within limit or its heap grows past 1.5 GiB (exiting the process then,
// so that a runaway loop cannot take the machine's memory).
func runPlotGuarded(t *testing.T, doc, out, panels string, limit time.Duration) error {
	t.Helper()
	in := filepath.Join(t.TempDir(), "in.json")
	if err := os.WriteFile(in, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- runPlot(nil, in, out, panels) }()
	deadline := time.Now().Add(limit)
	var ms runtime.MemStats
	for {
		select {
		case err := <-done:
			return err
		case <-time.After(50 * time.Millisecond):
		}
		runtime.ReadMemStats(&ms)
		if ms.HeapAlloc > 1536<<20 {
			fmt.Printf("--- FAIL: %s: runPlot(--panels %s) heap at %d MiB and growing: would run out of memory\n", t.Name(), panels, ms.HeapAlloc>>20)
			os.Exit(1)
		}
		if time.Now().After(deadline) {
			fmt.Printf("--- FAIL: %s: runPlot(--panels %s) still running after %v (heap %d MiB)\n", t.Name(), panels, limit, ms.HeapAlloc>>20)
			os.Exit(1)
		}
	}
}

// TestHostilePlotHugePercentFinishes: a tier far over its budget (percent
// 1e6) is plotted at once, not with a tick every 10% (which never ended at
// 1e300, a percent ReadAnalytics now refuses).
func TestHostilePlotHugePercentFinishes(t *testing.T) {
	for _, pct := range []string{"1e6", "1e300"} {
		doc := hostileDoc(hostileSample("2026-01-01T00:00:00Z", 1e9, "0.5", pct, `{"samples":0}`),
			hostileSample("2026-01-01T00:00:01Z", 1e9, "0.5", pct, `{"samples":0}`))
		out := filepath.Join(t.TempDir(), "p.png")
		start := time.Now()
		err := runPlotGuarded(t, doc, out, "usage", 15*time.Second)
		t.Logf("percent %s: err=%v in %v", pct, err, time.Since(start))
		if pct == "1e6" && err != nil || pct == "1e300" && !errors.Is(err, tiermem.ErrAnalyticsFormat) {
			t.Errorf("percent %s: %v; want a plot for 1e6 and ErrAnalyticsFormat for 1e300", pct, err)
		}
	}
}

// TestHostilePlotSVGHasNoNaNAndHasAxes draws crafted but valid documents
// as SVG and checks every coordinate is a number and the labels are there.
func TestHostilePlotSVGHasNoNaNAndHasAxes(t *testing.T) {
	lat := `{"samples":10,"p50":1000,"p99":50000,"p999":900000}`
	zero := `{"samples":0}`
	maxLat := `{"samples":1,"p50":9223372036854775807,"p99":9223372036854775807,"p999":9223372036854775807}`
	cases := map[string]string{
		"normal": hostileDoc(hostileSample("2026-01-01T00:00:00Z", 1e9, "0.5", "10", lat),
			hostileSample("2026-01-01T00:00:01Z", 1e9, "0.7", "60", lat)),
		"same-time": hostileDoc(hostileSample("2026-01-01T00:00:00Z", 1e9, "0.5", "10", lat),
			hostileSample("2026-01-01T00:00:00Z", 1e9, "0.5", "10", lat)),
		"backwards": hostileDoc(hostileSample("2026-01-01T00:00:10Z", 1e9, "0.5", "10", lat),
			hostileSample("2026-01-01T00:00:00Z", 1e9, "0.5", "10", lat)),
		"all-null-rates-zero-interval": hostileDoc(hostileSample("2026-01-01T00:00:00Z", 0, "null", "0", zero),
			hostileSample("2026-01-01T00:00:01Z", 0, "null", "0", zero)),
		"max-latency": hostileDoc(hostileSample("2026-01-01T00:00:00Z", 1e9, "1", "100", maxLat),
			hostileSample("2026-01-01T00:00:01Z", 1e9, "0", "100", lat)),
		"one-sample": hostileDoc(hostileSample("2026-01-01T00:00:00Z", 1e9, "0.5", "10", lat)),
		"far-apart": hostileDoc(hostileSample("0001-01-01T00:00:00Z", 1e9, "0.5", "10", lat),
			hostileSample("9999-01-01T00:00:00Z", 1e9, "0.5", "10", lat)),
		"constant-latency": hostileDoc(hostileSample("2026-01-01T00:00:00Z", 1e9, "0.5", "10", `{"samples":3,"p50":7,"p99":7,"p999":7}`),
			hostileSample("2026-01-01T00:00:01Z", 1e9, "0.5", "10", `{"samples":3,"p50":7,"p99":7,"p999":7}`)),
		"tiny-interval": hostileDoc(hostileSample("2026-01-01T00:00:00Z", 1, "0.5", "10", lat),
			hostileSample("2026-01-01T00:00:01Z", 1, "0.5", "10", lat)),
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "p.svg")
			if err := runPlotGuarded(t, doc, out, "all", 15*time.Second); err != nil {
				t.Fatalf("runPlot: %v", err)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, bad := range []string{"NaN", "Inf"} {
				if i := bytes.Index(b, []byte(bad)); i >= 0 {
					t.Errorf("SVG holds %q: …%s…", bad, b[max(0, i-80):min(len(b), i+40)])
				}
			}
			for _, want := range []string{"Time since the first sample", "Usage", "Reads", "Latency", "Events per second"} {
				if !bytes.Contains(b, []byte(want)) {
					t.Errorf("SVG lacks the label %q", want)
				}
			}
		})
	}
}

// TestHostilePlotPNGForViewing draws 30 samples of every panel into a PNG
// (the review looked at it: titles, axis labels, legends beside the data).
func TestHostilePlotPNGForViewing(t *testing.T) {
	lat := `{"samples":10,"p50":1000,"p99":50000,"p999":900000}`
	var s []string
	for i := range 30 {
		s = append(s, hostileSample(fmt.Sprintf("2026-01-01T00:00:%02dZ", i), 1e9, fmt.Sprint(float64(i%10)/10), fmt.Sprint(i*3), lat))
	}
	out := filepath.Join(t.TempDir(), "all.png")
	if err := runPlotGuarded(t, hostileDoc(s...), out, "all", 15*time.Second); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Size() < 10<<10 {
		t.Errorf("the PNG: %v, %v", fi, err)
	}
}

// TestHostilePlotEmptyAndHostileInputs: clear errors, never a panic.
func TestHostilePlotEmptyAndHostileInputs(t *testing.T) {
	for name, doc := range map[string]string{
		"empty":      "",
		"no-samples": hostileDoc(),
		"null":       "null",
		"truncated":  hostileDoc(hostileSample("2026-01-01T00:00:00Z", 1e9, "0.5", "10", `{}`))[:120],
		"v2":         `{"format":"tiermem-analytics","version":2,"tiers":["hot"],"samples":[]}`,
	} {
		out := filepath.Join(t.TempDir(), "p.png")
		err := runPlotGuarded(t, doc, out, "all", 10*time.Second)
		if err == nil {
			t.Errorf("%s: no error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}
