package observe_test

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/tiermem/tiermem/observe"
)

// node makes a pointer-rich live heap: the GC's mark work follows it.
type node struct {
	left, right *node
	val         [48]byte
}

// buildTree returns a tree of about bytes bytes.
func buildTree(bytes int) *node {
	n := bytes / 64
	nodes := make([]node, n)
	for i := 1; i < n; i++ {
		parent := &nodes[(i-1)/2]
		if i%2 == 1 {
			parent.left = &nodes[i]
		} else {
			parent.right = &nodes[i]
		}
	}
	return &nodes[0]
}

// churnSink keeps the churn's latest objects reachable for a moment.
var churnSink [64]*node

// churn allocates short-lived objects for d: an allocation-heavy loop with
// some CPU work between allocations.
func churn(d time.Duration) (ops int) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		for i := range 1024 {
			n := &node{}
			n.val[i%48] = byte(i)
			churnSink[i%len(churnSink)] = n
		}
		ops++
	}
	return ops
}

// gcCycles returns the GC cycles completed so far.
func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// churnCycles churns for at least d, and on until n GC cycles have
// completed (Apply is measured over three or more), or limit has passed.
func churnCycles(d time.Duration, n uint64, limit time.Duration) {
	start, deadline := gcCycles(), time.Now().Add(limit)
	churn(d)
	for gcCycles() < start+n && time.Now().Before(deadline) {
		churn(10 * time.Millisecond)
	}
}

// gcTuningRun runs the allocation-heavy workload on a live heap of liveBytes
// under a memory limit, applies the Optimizer's proposals half-way, and
// returns the final report.
func gcTuningRun(t testing.TB, liveBytes int, limit int64, before, after time.Duration) observe.Report {
	prevGOGC := debug.SetGCPercent(100)
	prevLimit := debug.SetMemoryLimit(limit)
	defer func() { debug.SetGCPercent(prevGOGC); debug.SetMemoryLimit(prevLimit) }()
	live := buildTree(liveBytes)
	runtime.GC()
	o, err := observe.Start(&observe.Options{Interval: 25 * time.Millisecond, GCCPUTarget: 0.005})
	if err != nil {
		t.Fatal(err)
	}
	churnCycles(before, 4, 20*time.Second)
	applied, err := o.Apply()
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) == 0 {
		r, _ := o.Stop()
		if r.GC.CPUFraction < 0.005+0.01 {
			// Below the target plus the least benefit a proposal must win
			// back, nothing can be proposed: the machine is too loaded for
			// the churn to keep the GC busy (2-6% on a quiet one).
			t.Skipf("the GC took %.1f%% of the CPU, too little to tune on this loaded machine:\n%s", 100*r.GC.CPUFraction, r.Summary())
		}
		t.Fatalf("nothing applied:\n%s", r.Summary())
	}
	churnCycles(after, 4, 20*time.Second)
	r, err := o.Stop()
	if err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(live)
	return r
}

func TestApplyCutsGCUnderAMemoryLimit(t *testing.T) {
	const limit = 192 << 20
	r := gcTuningRun(t, 16<<20, limit, 400*time.Millisecond, 500*time.Millisecond)
	a := r.Applied[0]
	if a.Opportunity.Action != observe.SetGCPercent || !a.Opportunity.Auto || !a.Measured {
		t.Fatalf("applied %+v: want a measured GOGC change", a)
	}
	// GC cycles per GiB allocated follow GOGC (and the limit), not the
	// machine's speed: they must fall at least by half.
	if a.AfterCyclesPerGiB > a.BeforeCyclesPerGiB/2 {
		t.Fatalf("cycles per GiB %.1f -> %.1f: want at most half\n%s", a.BeforeCyclesPerGiB, a.AfterCyclesPerGiB, r.Summary())
	}
	for _, s := range r.Samples {
		if s.HeapGoal > limit {
			t.Fatalf("heap goal %d past the %d limit", s.HeapGoal, limit)
		}
	}
	t.Logf("GC CPU %.3f -> %.3f (expected %.3f), cycles/GiB %.1f -> %.1f",
		a.BeforeGCCPU, a.AfterGCCPU, a.Opportunity.ExpectedGCCPU, a.BeforeCyclesPerGiB, a.AfterCyclesPerGiB)
}

// TestNothingToTuneWhenTheGCIsIdle: a program that barely allocates gets no
// proposal, and Apply changes nothing.
func TestNothingToTuneWhenTheGCIsIdle(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	runtime.GC()
	o := startT(t, &observe.Options{Interval: 10 * time.Millisecond})
	time.Sleep(100 * time.Millisecond)
	applied, err := o.Apply()
	if err != nil || len(applied) != 0 {
		t.Fatalf("Apply = %+v, %v: want nothing", applied, err)
	}
	r, _ := o.Stop()
	if len(r.GC.Opportunities) != 0 {
		t.Fatalf("proposals for an idle GC:\n%s", r.Summary())
	}
	if now := debug.SetGCPercent(100); now != 100 {
		t.Fatalf("GOGC changed from 100 to %d", now)
	}
}

// BenchmarkGCTuning measures what Apply does on the allocation-heavy
// workload under a memory limit: run with -benchtime=1x.
func BenchmarkGCTuning(b *testing.B) {
	for b.Loop() {
		r := gcTuningRun(b, 64<<20, 512<<20, 3*time.Second, 10*time.Second)
		a := r.Applied[0]
		if !a.Measured {
			b.Fatalf("not measured:\n%s", r.Summary())
		}
		b.ReportMetric(a.BeforeGCCPU, "gc-cpu-before")
		b.ReportMetric(a.AfterGCCPU, "gc-cpu-after")
		b.ReportMetric(a.Opportunity.ExpectedGCCPU, "gc-cpu-expected")
		b.ReportMetric(safeRatio(a.BeforeGCCPU, a.AfterGCCPU), "gc-cpu-cut-x")
		b.ReportMetric(a.BeforeCyclesPerGiB, "cycles/GiB-before")
		b.ReportMetric(a.AfterCyclesPerGiB, "cycles/GiB-after")
		b.ReportMetric(float64(a.Opportunity.Value), "gogc-set")
		b.ReportMetric(r.GC.AllocBytesPerSecond/(1<<20), "alloc-MiB/s-after")
		b.ReportMetric(float64(r.Memory.PeakHeapLive)/(1<<20), "peak-live-MiB")
		var goal int64
		for _, s := range r.Samples {
			goal = max(goal, s.HeapGoal)
		}
		b.ReportMetric(float64(goal)/(1<<20), "peak-goal-MiB")
	}
}

func safeRatio(a, b float64) float64 {
	if b <= 0 {
		return math.Inf(1)
	}
	return a / b
}
