package cache

import (
	"testing"

	"github.com/cespare/xxhash/v2"

	"github.com/tiermem/tiermem/internal/hashflood"
)

// The table hash is seeded per cache, so that an adversary who does not know
// the seed cannot aim keys at one bucket (Cache.hash). A seed applied after
// an unseeded xxhash64 of the key, as it once was (rehash(hashKey(key) ^
// seed)), keeps xxhash64's collisions, which are free to construct: 2,000
// keys with one xxhash64 made one bucket chain of 2,000 entries in every
// cache, every Get of them walked it (about 1000x slower than a normal Get)
// and every Set walked it holding the cache's lock (inserting n keys took
// O(n²), blocking all other Sets).
func TestHostileTableHashResistsCollidingKeys(t *testing.T) {
	if xxhash.Sum64String(hashflood.XXH64(1)) != xxhash.Sum64String(hashflood.XXH64(2)) {
		t.Fatal("test bug: the constructed keys do not collide")
	}
	c, err := New(&Options[string, int]{MaxWeight: 100_000, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 2000
	for i := range uint64(n) {
		if err := c.Set(hashflood.XXH64(i), 1); err != nil {
			t.Fatal(err)
		}
	}
	longest := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		b := s.buckets.Load()
		for j := range b.heads {
			chain := 0
			for e := b.heads[j].Load(); e != nil; e = e.next.Load() {
				chain++
			}
			longest = max(longest, chain)
		}
		s.mu.Unlock()
	}
	if longest > 64 {
		t.Fatalf("%d keys chosen by an attacker who does not know the cache's seed: the longest bucket chain holds %d entries", n, longest)
	}
}
