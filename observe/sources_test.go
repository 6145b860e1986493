package observe_test

import (
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem/alloc"
	"github.com/tiermem/tiermem/cache"
	"github.com/tiermem/tiermem/observe"
)

func TestLatency(t *testing.T) {
	var l observe.Latency
	if s := l.Stats(); s != (observe.LatencyStats{}) {
		t.Fatalf("zero Latency: %+v", s)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 100 {
				l.Record(time.Duration(i*100 + j))
			}
		})
	}
	wg.Wait()
	s := l.Stats()
	if s.Count != 800 || s.Max != 799 || s.Mean != 399 {
		t.Fatalf("stats %+v: want 800 durations, max 799, mean 399", s)
	}
}

func TestCountedPool(t *testing.T) {
	p := observe.NewCountedPool(func() *[]byte { b := make([]byte, 0, 64); return &b },
		func(b *[]byte) { *b = (*b)[:0] })
	if s := p.Stats(); s.HitRate() != 0 || s.Gets != 0 {
		t.Fatalf("an unused pool: %+v", s)
	}
	b := p.Get()
	*b = append(*b, 1)
	p.Put(b)
	for range 9 {
		p.Put(p.Get())
	}
	s := p.Stats()
	if s.Gets != 10 || s.News < 1 || s.News > 10 || s.HitRate() < 0 || s.HitRate() > 0.9 {
		t.Fatalf("stats %+v: want 10 gets, at least one new value", s)
	}
}

// TestSourcesInTheReport gathers an allocator, a pool and a cache into a
// report, with their rates since Start.
func TestSourcesInTheReport(t *testing.T) {
	slab, err := alloc.NewSlab(1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	var allocTime, hits, misses observe.Latency
	a := observe.TimeAllocator(alloc.Synchronized(slab), &allocTime)
	pool := observe.NewCountedPool(func() *int { return new(int) }, nil)
	c, err := cache.New(&cache.Options[string, int]{MaxWeight: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	o := startT(t, &observe.Options{Interval: time.Hour,
		Allocators: []observe.AllocatorSource{{Name: "slab", Stats: a.Stats, AllocTime: &allocTime}},
		Pools:      []observe.PoolSource{{Name: "ints", Stats: pool.Stats}},
		Caches:     []observe.CacheSource{{Name: "names", Stats: c.Stats, Hits: &hits, Misses: &misses}},
	})
	for range 10 {
		if _, err := a.Alloc(100); err != nil {
			t.Fatal(err)
		}
		pool.Put(pool.Get())
	}
	for _, k := range []string{"a", "b", "c", "d"} {
		_ = c.Set(k, 1)
	}
	observe.TimedGet(c, "d", &hits, &misses)
	observe.TimedGet(c, "zz", &hits, &misses)
	time.Sleep(time.Millisecond) // a window for the rates
	r, _ := o.Stop()
	if len(r.Allocators) != 1 || r.Allocators[0].Stats.Allocs != 10 || r.Allocators[0].AllocTime.Count != 10 ||
		r.Allocators[0].AllocsPerSecond <= 0 || r.Allocators[0].Efficiency <= 0 {
		t.Fatalf("allocators %+v", r.Allocators)
	}
	if len(r.Pools) != 1 || r.Pools[0].Stats.Gets != 10 {
		t.Fatalf("pools %+v", r.Pools)
	}
	cm := r.Caches[0]
	if cm.Stats.Hits+cm.Stats.Misses != 2 || cm.HitLatency.Count+cm.MissLatency.Count != 2 || cm.MissLatency.Count < 1 {
		t.Fatalf("caches %+v", r.Caches)
	}
	if cm.Stats.Evicted > 0 && cm.EvictionsPerSecond <= 0 {
		t.Fatalf("evictions %d but no rate", cm.Stats.Evicted)
	}
}
