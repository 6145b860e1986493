package observe

import (
	"math"
	"runtime"
	"testing"
	"time"
)

func TestDistribution(t *testing.T) {
	h := histogram{
		buckets: []float64{0, 0.001, 0.002, 0.010, math.Inf(1)},
		counts:  []uint64{90, 5, 4, 1},
	}
	d := h.distribution()
	want := Distribution{Count: 100, P50: time.Millisecond, P95: 2 * time.Millisecond,
		P99: 10 * time.Millisecond, Max: 10 * time.Millisecond}
	if d != want {
		t.Fatalf("distribution = %+v, want %+v", d, want)
	}
	if d := (histogram{}).distribution(); d != (Distribution{}) {
		t.Fatalf("empty histogram: %+v", d)
	}
}

func TestHistogramSince(t *testing.T) {
	b := []float64{0, 1, 2}
	now := histogram{buckets: b, counts: []uint64{5, 7}}
	d := now.since(histogram{buckets: b, counts: []uint64{5, 3}})
	if d.counts[0] != 0 || d.counts[1] != 4 {
		t.Fatalf("since = %v, want [0 4]", d.counts)
	}
	if d := now.since(histogram{}); d.counts[1] != 7 {
		t.Fatalf("since an empty base = %v, want the whole", d.counts)
	}
}

func TestReaderReadsTheRuntime(t *testing.T) {
	runtime.GC() // heap live is known from the end of the first cycle
	r := newReader()
	s := r.read(time.Now())
	if s.HeapLive <= 0 || s.HeapGoal <= 0 || s.Goroutines <= 0 || s.Runtime <= 0 || s.BusyCPUSeconds < 0 {
		t.Fatalf("sample %+v: heap, goal, goroutines and runtime must be positive", s)
	}
	if s.GOGC == 0 {
		t.Fatalf("GOGC reads 0")
	}
}
