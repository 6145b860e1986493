package cache_test

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/cache"
)

// TestGetDuringGrowth has readers look up keys already stored while writers
// keep adding new ones, so that every shard's table grows many times (a
// weighed cache starts at 8 buckets a shard) and relinks its entries under
// the readers' feet: a Get of a stored key must never miss.
func TestGetDuringGrowth(t *testing.T) {
	const keys = 50_000
	c, err := cache.New(&cache.Options[int, int]{
		MaxWeight: 1 << 40, // never evicts
		Weigher:   func(k, v int) int64 { return 1 },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var stored atomic.Int64 // keys below it are stored
	var wg sync.WaitGroup
	wg.Go(func() {
		for k := range keys {
			if err := c.Set(k, k); err != nil {
				t.Error(err)
				return
			}
			stored.Store(int64(k + 1))
		}
	})
	for g := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 3))
			for stored.Load() < keys {
				n := stored.Load()
				if n == 0 {
					continue
				}
				k := int(rng.Int64N(n))
				if v, ok := c.Get(k); !ok || v != k {
					t.Errorf("Get(%d) = %d, %v after it was stored", k, v, ok)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := c.Len(); n != keys {
		t.Errorf("Len %d, want %d", n, keys)
	}
}

// TestConcurrentPointerValues is TestConcurrent for values with pointers,
// which are never rewritten in place: every Set of a live key puts a new entry
// in the old one's place in the policy. Every policy; values must belong to
// their key, and the accounting must add up.
func TestConcurrentPointerValues(t *testing.T) {
	for _, kind := range []cache.Kind{cache.Adaptive, cache.LRU, cache.LFU, cache.FIFO, cache.S3FIFO} {
		t.Run(kind.String(), func(t *testing.T) {
			var live atomic.Int64
			const budget = 300
			c, err := cache.New(&cache.Options[int, string]{
				MaxWeight:     budget,
				Policy:        kind,
				Weigher:       func(k int, v string) int64 { return int64(1 + len(v)%3) },
				SweepInterval: time.Millisecond,
				OnEvict:       func(k int, v string, r cache.Reason) { live.Add(-1) },
			})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(g), 4))
					for range 10_000 {
						k := int(rng.ExpFloat64() * 200)
						switch op := rng.IntN(10); {
						case op < 6:
							if v, ok := c.Get(k); ok && !strings.HasPrefix(v, strconv.Itoa(k)+":") {
								t.Errorf("Get(%d) = %q: another key's value", k, v)
							}
						case op < 9:
							live.Add(1)
							v := strconv.Itoa(k) + ":" + strings.Repeat("x", rng.IntN(3))
							ttl := time.Duration(rng.IntN(2)) * time.Millisecond
							if err := c.SetWithTTL(k, v, ttl); err != nil {
								t.Error(err)
							}
						default:
							c.Delete(k)
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
