package observe_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem/observe"
)

var update = flag.Bool("update", false, "rewrite testdata/report.json from a live run")

// liveReport returns a report of a short run with an off-heap leak and a
// pool, so that every section has something in it.
func liveReport(t *testing.T) observe.Report {
	t.Helper()
	pool := observe.NewCountedPool(func() *int { return new(int) }, nil)
	o := startT(t, &observe.Options{Interval: 5 * time.Millisecond, ProfileEvery: 1,
		Pools: []observe.PoolSource{{Name: "ints", Stats: pool.Stats}}})
	pool.Put(pool.Get())
	leakOffHeap(t)
	waitForSuspect(t, o, observe.OffHeapLeak)
	churn(50 * time.Millisecond)
	r, err := o.Stop()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReportJSONRoundTrip(t *testing.T) {
	r := liveReport(t)
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	back, err := observe.ReadReport(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := json.MarshalIndent(back, "", "  ")
	if !bytes.Equal(data, again) {
		t.Fatal("a report read back does not encode to the same JSON")
	}
	if back.Summary() != r.Summary() {
		t.Fatalf("Summary differs after the round trip:\n%s\n---\n%s", r.Summary(), back.Summary())
	}
	if *update {
		if err := os.WriteFile(filepath.Join("testdata", "report.json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSummaryNamesEverySection(t *testing.T) {
	r := liveReport(t)
	s := r.Summary()
	for _, want := range []string{"memory report", "heap live", "gc:", "pauses p50", "leak suspects: ",
		"off-heap at ", "pool ints: 1 gets"} {
		if !strings.Contains(s, want) {
			t.Errorf("Summary lacks %q:\n%s", want, s)
		}
	}
}

func TestReadReportTestdata(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := observe.ReadReport(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Samples) == 0 || !strings.Contains(r.Summary(), "leak suspects: ") {
		t.Fatalf("testdata report: %d samples\n%s", len(r.Samples), r.Summary())
	}
}

func TestReadReportRefuses(t *testing.T) {
	for name, in := range map[string]string{
		"empty":       "",
		"not JSON":    "memory report",
		"an array":    "[1,2]",
		"other kind":  `{"kind":"something","version":1,"samples":[{}]}`,
		"new version": `{"kind":"tiermem.observe.report","version":2,"samples":[{}]}`,
		"no samples":  `{"kind":"tiermem.observe.report","version":1}`,
		"bad field":   `{"kind":"tiermem.observe.report","version":1,"samples":[{"heap_live":"x"}]}`,
	} {
		if _, err := observe.ReadReport(strings.NewReader(in)); !errors.Is(err, observe.ErrFormat) {
			t.Errorf("%s: ReadReport = %v, want ErrFormat", name, err)
		}
	}
}
