package cache_test

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/cache"
)

// TestConcurrent runs readers, writers, deleters and the sweeper at once (run it
// with -race) and then checks that the weights add up and that every entry
// stored was reported to OnEvict exactly once or is still there.
func TestConcurrent(t *testing.T) {
	for _, kind := range []cache.Kind{cache.Adaptive, cache.LRU} {
		t.Run(kind.String(), func(t *testing.T) {
			var live atomic.Int64 // entries stored minus entries reported gone
			const budget = 500
			c, err := cache.New(&cache.Options[int, int]{
				MaxWeight:     budget,
				Policy:        kind,
				Weigher:       func(k, v int) int64 { return int64(1 + v%4) },
				SweepInterval: time.Millisecond,
				OnEvict:       func(k, v int, r cache.Reason) { live.Add(-1) }, // every entry leaves once
			})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(g), 2))
					for range 20_000 {
						k := int(rng.ExpFloat64() * 300)
						switch op := rng.IntN(10); {
						case op < 6:
							if v, ok := c.Get(k); ok && v%1_000_000 != k {
								t.Errorf("Get(%d) = %d: another key's value", k, v)
							}
						case op < 9:
							ttl := time.Duration(rng.IntN(3)) * time.Millisecond
							live.Add(1)
							if err := c.SetWithTTL(k, k+1_000_000*rng.IntN(100), ttl); err != nil {
								t.Error(err)
							}
						default:
							c.Delete(k)
						}
						if w := c.Weight(); w > budget {
							t.Errorf("weight %d over budget", w)
						}
					}
				})
			}
			wg.Wait()
			c.Close()
			w, n := c.TableWeight()
			st := c.Stats()
			if w != st.Weight || n != st.Len || int64(n) != live.Load() {
				t.Fatalf("table %d entries weighing %d; Stats %d weighing %d; OnEvict accounting %d", n, w, st.Len, st.Weight, live.Load())
			}
		})
	}
}

// TestTornValues has writers rewrite multi-word values in place while readers
// check that every value they get is whole (all its words equal).
func TestTornValues(t *testing.T) {
	type wide [5]uint32 // 20 bytes: three words, the last one padded
	c, err := cache.New(&cache.Options[int, wide]{MaxWeight: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 20_000 {
				k := i % 16
				if g%2 == 0 {
					v := uint32(i)
					c.Set(k, wide{v, v, v, v, v})
					continue
				}
				if v, ok := c.Get(k); ok && (v[0] != v[1] || v[1] != v[2] || v[2] != v[3] || v[3] != v[4]) {
					t.Errorf("torn value %v", v)
					return
				}
			}
		})
	}
	wg.Wait()
}
