package cache_test

import (
	"errors"
	"testing"

	"github.com/tiermem/tiermem/cache"
)

func TestSetErrors(t *testing.T) {
	var gone []cache.Reason
	c, err := cache.New(&cache.Options[string, []byte]{
		MaxWeight: 10,
		Weigher: func(k string, v []byte) int64 {
			if v == nil {
				return -1
			}
			return int64(len(v))
		},
		OnEvict: func(k string, v []byte, r cache.Reason) { gone = append(gone, r) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set("a", make([]byte, 4)); err != nil {
		t.Fatal(err)
	}
	if err := c.Set("a", make([]byte, 11)); !errors.Is(err, cache.ErrTooLarge) {
		t.Fatalf("oversized Set: %v", err)
	}
	if _, ok := c.Get("a"); ok || c.Weight() != 0 {
		t.Fatalf("an oversized Set left the old entry (weight %d)", c.Weight())
	}
	if err := c.Set("b", nil); !errors.Is(err, cache.ErrWeight) {
		t.Fatalf("negative weight: %v", err)
	}
	c.Close()
	c.Close() // idempotent
	if err := c.Set("c", make([]byte, 1)); !errors.Is(err, cache.ErrClosed) {
		t.Fatalf("Set after Close: %v", err)
	}
	if len(gone) != 2 || gone[0] != cache.Evicted || gone[1] != cache.Rejected { // the old entry, then the oversized value
		t.Fatalf("removals %v, want [evicted rejected]", gone)
	}
	if _, err := cache.New(&cache.Options[int, int]{MaxWeight: -1}); !errors.Is(err, cache.ErrCapacity) {
		t.Fatalf("negative budget: %v", err)
	}
	if _, err := cache.New(&cache.Options[int, int]{Policy: cache.Kind(42)}); !errors.Is(err, cache.ErrPolicy) {
		t.Fatalf("unknown policy: %v", err)
	}
}

// TestByteBudget fills a byte-weighted cache far past its budget with values of
// many sizes, replacing some with other sizes, and checks the budget each time.
func TestByteBudget(t *testing.T) {
	for _, kind := range []cache.Kind{cache.Adaptive, cache.LRU, cache.S3FIFO} {
		c, err := cache.New(&cache.Options[int, []byte]{
			MaxWeight:     1 << 16,
			Policy:        kind,
			Weigher:       func(k int, v []byte) int64 { return int64(len(v)) },
			SweepInterval: -1,
		})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 20_000 {
			k := i % 3000
			if err := c.Set(k, make([]byte, (i*7919)%4000)); err != nil {
				t.Fatal(err)
			}
			if w, _ := c.TableWeight(); w != c.Weight() || w > 1<<16 {
				t.Fatalf("%v: step %d: table weighs %d, Weight %d, budget %d", kind, i, w, c.Weight(), 1<<16)
			}
		}
		if c.Len() < 10 {
			t.Fatalf("%v: only %d entries left", kind, c.Len())
		}
		c.Close()
	}
}
