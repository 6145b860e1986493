package cache_test

import (
	"fmt"
	"time"

	"github.com/tiermem/tiermem/cache"
)

func ExampleNew() {
	c, err := cache.New(&cache.Options[string, []byte]{
		MaxWeight: 1 << 20, // 1 MiB of values
		Weigher:   func(key string, value []byte) int64 { return int64(len(key) + len(value)) },
	})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	c.Set("greeting", []byte("hello"))
	v, ok := c.Get("greeting")
	fmt.Println(string(v), ok, c.Weight())
	_, ok = c.Get("missing")
	fmt.Println(ok)
	// Output:
	// hello true 13
	// false
}

func ExampleCache_SetWithTTL() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c, _ := cache.New(&cache.Options[string, string]{
		Clock: func() time.Time { return now }, // a clock moved by hand
		OnEvict: func(key, value string, reason cache.Reason) {
			fmt.Println("gone:", key, reason)
		},
	})
	defer c.Close()
	c.SetWithTTL("session", "alice", time.Minute)
	now = now.Add(59 * time.Second)
	_, ok := c.Get("session")
	fmt.Println("after 59s:", ok)
	now = now.Add(time.Second)
	_, ok = c.Get("session")
	fmt.Println("after 60s:", ok)
	// Output:
	// after 59s: true
	// gone: session expired
	// after 60s: false
}

func ExampleCache_Stats() {
	c, _ := cache.New(&cache.Options[int, int]{MaxWeight: 2, Policy: cache.LRU})
	defer c.Close()
	for k := range 3 {
		c.Set(k, k*k)
	}
	c.Get(2)
	c.Get(0) // evicted: LRU kept 1 and 2
	c.Delete(1)
	s := c.Stats()
	fmt.Printf("hits %d, misses %d, evicted %d, deleted %d, entries %d\n", s.Hits, s.Misses, s.Evicted, s.Deleted, s.Len)
	// Output:
	// hits 1, misses 1, evicted 1, deleted 1, entries 1
}

func ExampleCache_Analyze() {
	c, _ := cache.New(&cache.Options[int, int]{MaxWeight: 1000, SweepInterval: -1})
	defer c.Close()
	// 2,000 keys requested in turn, ten times over: a budget of 1,000 keeps
	// some of them; twice as much would keep them all.
	for range 10 {
		for k := range 2000 {
			if _, ok := c.Get(k); !ok {
				c.Set(k, k)
			}
		}
	}
	a := c.Analyze()
	fmt.Printf("hit rate %.0f%%\n", 100*a.HitRatio)
	fmt.Println(a.Recommendations[0])
	// Output:
	// hit rate 44%
	// A 2× budget would raise the hit rate from 44% to 90%.
}

func ExampleNewPolicy() {
	// A policy alone, as the tiers use one: the owner keeps the values and the
	// weights' sum, and asks for victims while over budget.
	p, _ := cache.NewPolicy[string](cache.LRU, 3)
	resident := map[string]bool{}
	used := int64(0)
	for _, key := range []string{"a", "b", "c", "a", "d"} {
		if resident[key] {
			p.Access(key)
			continue
		}
		p.Add(key, 1)
		resident[key] = true
		used++
		for used > 3 {
			victim, _ := p.Victim()
			delete(resident, victim)
			p.Remove(victim)
			used--
			fmt.Println("evict", victim)
		}
	}
	// Output:
	// evict b
}

// victims adds keys one by one to a policy holding at most capacity of them
// and returns the keys it evicted, in order; a key seen before is an Access.
func victims(p cache.Policy[string], capacity int, keys ...string) []string {
	var out []string
	resident := map[string]bool{}
	for _, k := range keys {
		if resident[k] {
			p.Access(k)
			continue
		}
		p.Add(k, 1)
		resident[k] = true
		for p.Len() > capacity {
			v, _ := p.Victim()
			p.Remove(v)
			delete(resident, v)
			out = append(out, v)
		}
	}
	return out
}

func ExampleNewLRU() {
	fmt.Println(victims(cache.NewLRU[string](), 2, "a", "b", "a", "c", "d"))
	// Output: [b a]
}

func ExampleNewFIFO() {
	fmt.Println(victims(cache.NewFIFO[string](), 2, "a", "b", "a", "c", "d"))
	// Output: [a b]
}

func ExampleNewLFU() {
	fmt.Println(victims(cache.NewLFU[string](), 2, "a", "b", "a", "c", "d"))
	// Output: [b c]
}

func ExampleNewAdaptive() {
	// Two popular keys, then a scan of keys seen once: the scan passes through
	// a cache of 3 without displacing them.
	p := cache.NewAdaptive[string](3)
	fmt.Println(victims(p, 3, "a", "b", "a", "b", "a", "b", "s1", "s2", "s3", "s4"))
	// Output: [s1 s2 s3]
}

func ExampleParseKind() {
	k, err := cache.ParseKind("lfu")
	fmt.Println(k, err)
	_, err = cache.ParseKind("clock")
	fmt.Println(err)
	// Output:
	// lfu <nil>
	// cache: unknown policy: "clock" (want adaptive, lru, lfu, fifo or s3fifo)
}

func ExampleCache_Delete() {
	c, _ := cache.New[string, int](nil) // nil Options: 10,000 entries, Adaptive, no TTL
	defer c.Close()
	c.Set("a", 1)
	fmt.Println(c.Delete("a"), c.Delete("a"), c.Len())
	// Output: true false 0
}

func ExampleNewS3FIFO() {
	// Two keys used again and again, then a scan of keys seen once: the scan
	// goes through the small queue and leaves; the two keys stay in main.
	p := cache.NewS3FIFO[string](4)
	keys := []string{"a", "b", "a", "b", "a", "b", "s1", "s2", "s3", "s4", "s5"}
	fmt.Println(victims(p, 4, keys...))
	// Output: [s1 s2 s3]
}
