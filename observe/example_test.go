package observe_test

import (
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/tiermem/tiermem/alloc"
	"github.com/tiermem/tiermem/cache"
	"github.com/tiermem/tiermem/observe"
)

// The seed's MemoryOptimizer: start, run the workload, stop, read the
// summary.
func ExampleStart() {
	o, err := observe.Start(nil)
	if err != nil {
		panic(err)
	}
	churn(20 * time.Millisecond) // the workload
	r, err := o.Stop()
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.Contains(r.Summary(), "gc:"), r.Samples[0].HeapGoal > 0)
	// Output: true true
}

// A long-running monitor: a report at any time, the Optimizer keeps going.
func ExampleOptimizer_Snapshot() {
	o, err := observe.Start(&observe.Options{Interval: 10 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	defer o.Stop()
	r := o.Snapshot()
	fmt.Println(r.Memory.Now.Goroutines > 0, r.GC.GOGC)
	// Output: true 100
}

// Sample marks the end of a phase with a sample and profiles, besides the
// periodic ones.
func ExampleOptimizer_Sample() {
	o, err := observe.Start(&observe.Options{Interval: time.Hour})
	if err != nil {
		panic(err)
	}
	for range 3 {
		churn(5 * time.Millisecond) // a phase
		if err := o.Sample(); err != nil {
			panic(err)
		}
	}
	r, _ := o.Stop()
	fmt.Println(len(r.Samples)) // Start's, three phases', Stop's
	// Output: 5
}

// Apply puts the low-risk proposals in force; later reports measure them.
func ExampleOptimizer_Apply() {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	o, err := observe.Start(&observe.Options{Interval: 10 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	applied, err := o.Apply()
	if err != nil {
		panic(err)
	}
	for _, a := range applied {
		fmt.Printf("%s %d -> %d, GC CPU expected %.0f%%\n", a.Opportunity.Action, a.Previous,
			a.Opportunity.Value, 100*a.Opportunity.ExpectedGCCPU)
	}
	r, _ := o.Stop()
	fmt.Println(len(r.Applied) == len(applied))
	// Output: true
}

// The report as text.
func ExampleReport_Summary() {
	o, _ := observe.Start(nil)
	r, _ := o.Stop()
	fmt.Println(strings.SplitN(r.Summary(), " ", 3)[:2])
	// Output: [memory report,]
}

// A saved report read back, as `tiermem report --from FILE` does.
func ExampleReadReport() {
	f, err := os.Open("testdata/report.json")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	r, err := observe.ReadReport(f)
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Kind, r.Version, len(r.Leaks))
	// Output: tiermem.observe.report 1 1
}

// The memory limit for a process whose hot tier may hold 8 GiB.
func ExampleMemoryLimitFor() {
	fmt.Println(observe.MemoryLimitFor(8<<30)>>20, "MiB")
	fmt.Println(observe.MemoryLimitFor(0) == math.MaxInt64)
	// Output:
	// 10304 MiB
	// true
}

// ApplyMemoryLimit never replaces a limit someone chose.
func ExampleApplyMemoryLimit() {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(4 << 30)) // chosen, as GOMEMLIMIT=4GiB would
	limit, set := observe.ApplyMemoryLimit(8 << 30)
	fmt.Println(limit>>30, "GiB", set)
	// Output: 4 GiB false
}

// Latency for anything timed by hand: a cache miss's fetch, for example.
func ExampleLatency() {
	var l observe.Latency
	l.Record(2 * time.Millisecond)
	l.Record(4 * time.Millisecond)
	s := l.Stats()
	fmt.Println(s.Count, s.Mean, s.Max)
	// Output: 2 3ms 4ms
}

// A cache's hit and miss latency, gathered into the report.
func ExampleTimedGet() {
	c, _ := cache.New(&cache.Options[string, string]{MaxWeight: 100})
	defer c.Close()
	var hits, misses observe.Latency
	_ = c.Set("k", "v")
	observe.TimedGet(c, "k", &hits, &misses)
	observe.TimedGet(c, "nope", &hits, &misses)
	o, _ := observe.Start(&observe.Options{
		Caches: []observe.CacheSource{{Name: "names", Stats: c.Stats, Hits: &hits, Misses: &misses}}})
	r, _ := o.Stop()
	fmt.Println(r.Caches[0].Name, r.Caches[0].HitRate, r.Caches[0].HitLatency.Count, r.Caches[0].MissLatency.Count)
	// Output: names 0.5 1 1
}

// An allocator's allocation time, efficiency and fragmentation.
func ExampleTimeAllocator() {
	slab, _ := alloc.NewSlab(1<<20, nil)
	var t observe.Latency
	a := observe.TimeAllocator(alloc.Synchronized(slab), &t)
	o, _ := observe.Start(&observe.Options{
		Allocators: []observe.AllocatorSource{{Name: "slab", Stats: a.Stats, AllocTime: &t}}})
	if _, err := a.Alloc(100); err != nil {
		panic(err)
	}
	r, _ := o.Stop()
	m := r.Allocators[0]
	fmt.Println(m.Stats.Allocs, m.AllocTime.Count, m.Efficiency > 0.8)
	// Output: 1 1 true
}

// A pool's hit rate.
func ExampleNewCountedPool() {
	p := observe.NewCountedPool(func() *[]byte { b := make([]byte, 0, 4096); return &b },
		func(b *[]byte) { *b = (*b)[:0] })
	b := p.Get() // new: the pool was empty
	p.Put(b)
	fmt.Println(p.Stats().Gets, p.Stats().News >= 1)
	// Output: 1 true
}
