package hitratio

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tiermem/tiermem/cache/probe"
	"github.com/tiermem/tiermem/internal/trace"
)

var (
	tracesFlag = flag.String("traces", "OLTP,gli,scarab,P3,loop,Mixed,probes",
		"comma-separated traces to replay: OLTP, gli, scarab, P3, loop, Mixed, probes (the generated ones)")
	traceDir = flag.String("tracedir", "", "directory of the shared traces (default: shared/traces beside the checkout)")
	parallel = flag.Int("parallel", 1, "rows replayed at once (the machine is shared: keep it low)")
	runs     = flag.Int("runs", 5, "replays of each peer per row (their hashes are seeded at random); the median is reported")
)

// figure is one replayer's hit ratio on one row, in percent: the median of its
// runs and their range (all three equal for a deterministic replayer).
type figure struct{ median, lo, hi float64 }

// row is one row of the table: a trace at one size. lru is the reference
// table's exact LRU figure (shared/traces/README.md), which the replay must
// reproduce; 0 for generated traces.
type row struct {
	trace string
	size  int
	lru   float64
}

// tableRows are the rows of the hit-ratio table of BENCHMARKS.md.
var tableRows = []row{
	{"OLTP", 250, 16.47}, {"OLTP", 500, 23.45}, {"OLTP", 1000, 32.83}, {"OLTP", 2000, 42.47},
	{"gli", 250, 0.91}, {"gli", 500, 0.95}, {"gli", 1000, 11.21}, {"gli", 2000, 57.41},
	{"scarab", 1000, 26.96}, {"scarab", 10000, 48.65}, {"scarab", 50000, 69.15}, {"scarab", 100000, 75.91},
	{"P3", 25000, 2.60}, {"P3", 100000, 29.34}, {"P3", 400000, 75.30},
	{"loop", 500, 0}, {"loop", 1000, 0},
	{"Mixed", 500, 11.64}, {"Mixed", 1000, 11.64},
}

// TestLiveHitRatio replays the chosen traces through every replayer and logs
// the table (run with -v). It fails if tiermem's LRU misses the reference
// table (the counting is wrong then) or if Adaptive is more than 1 point under
// LRU on any row. It takes several minutes: skipped with -short.
func TestLiveHitRatio(t *testing.T) {
	if testing.Short() {
		t.Skip("replays millions of requests per cache")
	}
	rows, keys := chosen(t)
	ratios := make([][]figure, len(rows)) // per row, per replayer
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(*parallel, 1))
	for i, r := range rows {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ratios[i] = replayRow(t, keys[r.trace], r.size)
			t.Logf("%s %d: %.2f", r.trace, r.size, ratios[i])
		})
	}
	wg.Wait()
	for i, r := range rows {
		lru, adaptive := ratios[i][0].median, ratios[i][len(replayers)-1].median
		if r.lru > 0 && (lru < r.lru-0.005 || lru > r.lru+0.005) {
			t.Errorf("%s %d: LRU %.2f, reference %.2f: the replay does not count as the table does", r.trace, r.size, lru, r.lru)
		}
		if adaptive < lru-1 {
			t.Errorf("%s %d: Adaptive %.2f is more than 1 point under LRU %.2f", r.trace, r.size, adaptive, lru)
		}
	}
	t.Log("\n" + table(rows, ratios))
}

// replayRow returns each replayer's hit ratio.
func replayRow(t *testing.T, keys []uint64, size int) []figure {
	out := make([]figure, len(replayers))
	for j, rp := range replayers {
		n := 1
		if rp.random {
			n = max(*runs, 1)
		}
		var got []float64
		for range n {
			got = append(got, 100*float64(rp.replay(t, keys, size))/float64(len(keys)))
			runtime.GC() // the last cache goes before the next one is filled
		}
		out[j] = summarize(got)
	}
	return out
}

// summarize returns the median and range of runs.
func summarize(runs []float64) figure {
	slices.Sort(runs)
	m := runs[len(runs)/2]
	if len(runs)%2 == 0 {
		m = (runs[len(runs)/2-1] + m) / 2
	}
	return figure{m, runs[0], runs[len(runs)-1]}
}

// chosen returns the rows of the traces named by -traces and their keys.
func chosen(t *testing.T) ([]row, map[string][]uint64) {
	names := strings.Split(*tracesFlag, ",")
	var rows []row
	keys := map[string][]uint64{}
	for _, r := range tableRows {
		if slices.Contains(names, r.trace) {
			rows = append(rows, r)
			if keys[r.trace] == nil {
				keys[r.trace] = loadTrace(t, r.trace)
			}
		}
	}
	if slices.Contains(names, "probes") {
		for _, p := range probe.Probes() {
			keys[p.Name] = p.Keys()
			for _, size := range p.Sizes {
				rows = append(rows, row{trace: p.Name, size: size})
			}
		}
	}
	if len(rows) == 0 {
		t.Fatalf("-traces %q names no trace", *tracesFlag)
	}
	return rows, keys
}

// table formats the results as the Markdown table of BENCHMARKS.md: the
// peers' medians with their ranges, and Adaptive against the better peer's
// median and against LRU.
func table(rows []row, ratios [][]figure) string {
	var b strings.Builder
	b.WriteString("| trace | size | LRU | otter | theine | **Adaptive** | vs best peer | vs LRU |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for i, r := range rows {
		lru, otter, theine, adaptive := ratios[i][0], ratios[i][1], ratios[i][2], ratios[i][3]
		best := max(otter.median, theine.median)
		fmt.Fprintf(&b, "| %s | %d | %.2f | %s | %s | **%.2f** | %s | %s |\n", r.trace, r.size, lru.median,
			spread(otter), spread(theine), adaptive.median, signed(adaptive.median-best), signed(adaptive.median-lru.median))
	}
	return b.String()
}

// spread formats a figure as its median and, if the runs differ, their range.
func spread(f figure) string {
	if f.lo == f.hi {
		return fmt.Sprintf("%.2f", f.median)
	}
	return fmt.Sprintf("%.2f (%.2f–%.2f)", f.median, f.lo, f.hi)
}

// signed formats a difference in points with its sign.
func signed(d float64) string {
	s := fmt.Sprintf("%+.2f", d)
	if s == "-0.00" {
		return "+0.00"
	}
	return strings.Replace(s, "-", "−", 1)
}

// loadTrace reads one of the shared traces (Mixed is corda, loop, corda).
func loadTrace(t *testing.T, name string) []uint64 {
	t.Helper()
	dir := *traceDir
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "traces")
	}
	parts, ok := trace.Named(dir, name)
	if !ok {
		t.Fatalf("no shared trace is named %q", name)
	}
	keys, err := trace.ReadKeys(parts)
	if errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("shared traces not found (set -tracedir): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return keys
}
