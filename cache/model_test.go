package cache_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tiermem/tiermem/cache"
)

// fakeClock is a clock moved by hand; tests run in one goroutine.
type fakeClock struct{ now time.Time }

func (f *fakeClock) Now() time.Time          { return f.now }
func (f *fakeClock) Advance(d time.Duration) { f.now = f.now.Add(d) }

// modelEntry is what the model knows of a key: its last value, weight and expiry.
type modelEntry struct {
	value  int
	weight int64
	expire time.Time // zero: never
}

// TestModel runs long random sequences of operations against a plain map model
// and checks after each one that the cache agrees with the model where the
// model can tell (values, deletions, expiry), that every removal was reported
// to OnEvict, and that the weights add up and never exceed the budget.
func TestModel(t *testing.T) {
	for _, kind := range []cache.Kind{cache.Adaptive, cache.LRU, cache.LFU, cache.FIFO, cache.S3FIFO} {
		for seed := range uint64(4) {
			t.Run(fmt.Sprintf("%v/%d", kind, seed), func(t *testing.T) { runModel(t, kind, seed, 20_000) })
		}
	}
}

func runModel(t *testing.T, kind cache.Kind, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	clock := &fakeClock{now: time.Unix(1_000_000, 0)}
	model := map[int]modelEntry{} // keys the cache may hold
	present := map[int]bool{}     // keys the cache holds, from OnEvict's reports
	const budget = 200
	c, err := cache.New(&cache.Options[int, int]{
		MaxWeight:     budget,
		Policy:        kind,
		Weigher:       func(k, v int) int64 { return int64(v % 17) },
		SweepInterval: -1,
		Clock:         clock.Now,
		OnEvict: func(k, v int, r cache.Reason) {
			if r != cache.Replaced && r != cache.Rejected {
				delete(present, k)
			}
			if r == cache.Rejected && model[k].value == v {
				delete(present, k)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for step := range steps {
		k := int(rng.ExpFloat64() * 60)
		switch op := rng.IntN(100); {
		case op < 40:
			v, ok := c.Get(k)
			m, known := model[k]
			expired := known && !m.expire.IsZero() && !clock.now.Before(m.expire)
			if ok && (!known || expired || v != m.value) {
				t.Fatalf("step %d: Get(%d) = %d, model has %+v (expired %v)", step, k, v, m, expired)
			}
		case op < 75:
			v := rng.IntN(1 << 20)
			ttl := time.Duration(0)
			if rng.IntN(4) == 0 {
				ttl = time.Duration(1+rng.IntN(100)) * time.Millisecond
			}
			model[k] = modelEntry{value: v, weight: int64(v % 17)}
			if ttl > 0 {
				model[k] = modelEntry{value: v, weight: int64(v % 17), expire: clock.now.Add(ttl)}
			}
			present[k] = true
			if err := c.SetWithTTL(k, v, ttl); err != nil {
				t.Fatalf("step %d: Set: %v", step, err)
			}
		case op < 85:
			c.Delete(k)
			delete(model, k)
			if present[k] {
				t.Fatalf("step %d: Delete(%d) did not report the removal", step, k)
			}
		case op < 95:
			clock.Advance(time.Duration(rng.IntN(20)) * time.Millisecond)
		default:
			c.Sweep()
		}
		checkInvariants(t, step, c, budget, len(present))
	}
}

func checkInvariants(t *testing.T, step int, c *cache.Cache[int, int], budget int64, present int) {
	t.Helper()
	w, n := c.TableWeight()
	st := c.Stats()
	if w != c.Weight() || w != st.Weight {
		t.Fatalf("step %d: table weighs %d, Weight() %d, Stats %d", step, w, c.Weight(), st.Weight)
	}
	if w > budget {
		t.Fatalf("step %d: weight %d over budget %d", step, w, budget)
	}
	if n != st.Len || n != present {
		t.Fatalf("step %d: table holds %d entries, Stats %d, OnEvict accounting %d", step, n, st.Len, present)
	}
}

// TestTTL checks that an entry lives until its TTL, not after, by Get and by sweep.
func TestTTL(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_000_000, 0)}
	var expired []string
	c, err := cache.New(&cache.Options[string, int]{TTL: time.Minute, SweepInterval: -1, Clock: clock.Now,
		OnEvict: func(k string, _ int, r cache.Reason) {
			if r == cache.Expired {
				expired = append(expired, k)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Set("a", 1)
	c.SetWithTTL("b", 2, time.Hour)
	c.SetWithTTL("c", 3, -1) // no expiry
	clock.Advance(time.Minute - time.Nanosecond)
	if _, ok := c.Get("a"); !ok {
		t.Fatal("a expired early")
	}
	clock.Advance(time.Nanosecond)
	if _, ok := c.Get("a"); ok {
		t.Fatal("a outlived its TTL")
	}
	clock.Advance(time.Hour)
	c.Sweep()
	if _, ok := c.Get("c"); !ok || c.Len() != 1 {
		t.Fatalf("after the sweep: c present %v, Len %d; want true, 1", ok, c.Len())
	}
	if fmt.Sprint(expired) != "[a b]" {
		t.Fatalf("expired %v, want [a b]", expired)
	}
}
