//go:build !race

package cache

import (
	"testing"
	"time"
)

// TestGetDoesNotAlloc checks that a Get, hit or miss, allocates nothing for
// each way the table hashes keys: integers, strings and other comparable
// types (hash/maphash with the cache's seed), and with a TTL (the cache
// clock). Not under -race, which allocates.
func TestGetDoesNotAlloc(t *testing.T) {
	t.Run("uint64", func(t *testing.T) { checkGetAllocs(t, uint64Key, 0) })
	t.Run("uint32", func(t *testing.T) { checkGetAllocs(t, func(i int) uint32 { return uint32(i) }, 0) })
	t.Run("string", func(t *testing.T) { checkGetAllocs(t, string10Key, 0) })
	t.Run("string with TTL", func(t *testing.T) { checkGetAllocs(t, string10Key, time.Hour) })
	t.Run("struct", func(t *testing.T) { checkGetAllocs(t, structKey, 0) })
	t.Run("any", func(t *testing.T) { checkGetAllocs(t, func(i int) any { return string10Key(i) }, 0) })
}

func checkGetAllocs[K comparable](t *testing.T, key func(int) K, ttl time.Duration) {
	c, err := New(&Options[K, int]{MaxWeight: 100, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	hit, miss := key(1), key(2)
	if err := c.Set(hit, 1); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(1000, func() { c.Get(hit) }); n != 0 {
		t.Errorf("Get of a present key: %.1f allocations", n)
	}
	if n := testing.AllocsPerRun(1000, func() { c.Get(miss) }); n != 0 {
		t.Errorf("Get of an absent key: %.1f allocations", n)
	}
}
