package observe_test

import (
	"errors"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem/memory"
	"github.com/tiermem/tiermem/observe"
)

func startT(t *testing.T, opts *observe.Options) *observe.Optimizer {
	t.Helper()
	o, err := observe.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Stop() })
	return o
}

func TestStartRefusesBadOptions(t *testing.T) {
	for name, opts := range map[string]observe.Options{
		"negative interval": {Interval: -time.Second},
		"one sample":        {Samples: 1},
		"two profiles":      {Profiles: 2},
		"GC target of 1":    {GCCPUTarget: 1},
		"negative target":   {GCCPUTarget: -0.1},
		"negative bytes":    {MinLeakBytes: -1},
	} {
		if _, err := observe.Start(&opts); !errors.Is(err, observe.ErrOptions) {
			t.Errorf("%s: Start = %v, want ErrOptions", name, err)
		}
	}
}

func TestStopTwiceAndUseAfterStop(t *testing.T) {
	o := startT(t, nil)
	r, err := o.Stop()
	if err != nil || r.Kind != observe.ReportKind || len(r.Samples) < 2 {
		t.Fatalf("Stop = %d samples, %v; want a report with the first and last samples", len(r.Samples), err)
	}
	again, err := o.Stop()
	if !errors.Is(err, observe.ErrStopped) || !again.End.Equal(r.End) {
		t.Fatalf("second Stop = %v, want ErrStopped and the same report", err)
	}
	if err := o.Sample(); !errors.Is(err, observe.ErrStopped) {
		t.Fatalf("Sample after Stop = %v", err)
	}
	if _, err := o.Apply(); !errors.Is(err, observe.ErrStopped) {
		t.Fatalf("Apply after Stop = %v", err)
	}
	if s := o.Snapshot(); !s.End.Equal(r.End) {
		t.Fatal("Snapshot after Stop is not Stop's report")
	}
}

func TestLoopSamplesOnItsOwn(t *testing.T) {
	o := startT(t, &observe.Options{Interval: time.Millisecond, ProfileEvery: 1, Samples: 1000})
	deadline := time.Now().Add(10 * time.Second)
	prev := len(o.Snapshot().Samples)
	for {
		time.Sleep(20 * time.Millisecond)
		n := len(o.Snapshot().Samples) // the ring, and a reading the ring does not keep
		if n > prev {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no sample from the loop in 10 s at a 1 ms interval")
		}
		prev = n
	}
}

func TestRingIsBounded(t *testing.T) {
	o := startT(t, &observe.Options{Interval: time.Hour, Samples: 5})
	for range 20 {
		if err := o.Sample(); err != nil {
			t.Fatal(err)
		}
	}
	r, _ := o.Stop()
	if len(r.Samples) != 5 {
		t.Fatalf("the ring holds %d samples, want its bound 5", len(r.Samples))
	}
	for i := 1; i < len(r.Samples); i++ {
		if r.Samples[i].Time.Before(r.Samples[i-1].Time) {
			t.Fatal("samples out of order")
		}
	}
}

// TestConcurrentUse runs every method at once; -race checks the locking.
func TestConcurrentUse(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100)) // Apply may raise it
	o := startT(t, &observe.Options{Interval: time.Millisecond, ProfileEvery: 2})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for _, f := range []func(){
		func() { _ = o.Snapshot() },
		func() { _ = o.Sample() },
		func() { _, _ = o.Apply() },
		func() { _ = make([]byte, 1<<16) },
	} {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					f()
				}
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := o.Stop(); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
}

// TestOffHeapLeaksReachEveryOptimizer: memory's one leak reporter is shared
// by all running Optimizers, and a stopped one hears nothing more.
func TestOffHeapLeaksReachEveryOptimizer(t *testing.T) {
	a, b := startT(t, nil), startT(t, nil)
	leakOffHeap(t)
	for _, o := range []*observe.Optimizer{a, b} {
		waitForSuspect(t, o, observe.OffHeapLeak)
	}
	ra, _ := a.Stop()
	c := startT(t, nil)
	leakOffHeap(t)
	waitForSuspect(t, c, observe.OffHeapLeak)
	if n := countKind(a.Snapshot().Leaks, observe.OffHeapLeak); n != countKind(ra.Leaks, observe.OffHeapLeak) {
		t.Fatal("a stopped Optimizer's report changed")
	}
	var s observe.Suspect
	for _, l := range c.Snapshot().Leaks {
		if l.Kind == observe.OffHeapLeak {
			s = l
		}
	}
	if s.Bytes != 1<<16 || s.Count != 1 || s.Site.Line == 0 {
		t.Fatalf("suspect %+v: want 64 KiB in one handle, with its file:line", s)
	}
}

//go:noinline
func leakOffHeap(t *testing.T) {
	h, err := memory.Allocate(1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	_ = h
}

func waitForSuspect(t *testing.T, o *observe.Optimizer, kind observe.LeakKind) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for countKind(o.Snapshot().Leaks, kind) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no %s suspect after 10 s", kind)
		}
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
	}
}

func countKind(s []observe.Suspect, kind observe.LeakKind) int {
	n := 0
	for _, x := range s {
		if x.Kind == kind {
			n++
		}
	}
	return n
}
