package cache

import (
	"encoding/binary"
	"math/bits"
	"testing"

	"github.com/cespare/xxhash/v2"
)

// xxh64Colliding returns the i-th of many 64-byte keys with one and the same
// xxhash64 (seed 0): each of XXH64's lane rounds is a bijection of the
// accumulator, so the second stripe's first lane can be solved to undo any
// change to the first stripe's first lane.
func xxh64Colliding(i uint64) string {
	const p1, p2 uint64 = 0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F
	inverse := func(a uint64) uint64 { // of an odd number, mod 2^64 (Newton)
		x := a
		for range 6 {
			x *= 2 - a*x
		}
		return x
	}
	round := func(acc, lane uint64) uint64 { return bits.RotateLeft64(acc+lane*p2, 31) * p1 }
	v1 := p1
	v1 += p2 // lane 1's accumulator at seed 0
	target := round(round(v1, 0), 0)
	b := make([]byte, 64)
	binary.LittleEndian.PutUint64(b[0:], i)
	binary.LittleEndian.PutUint64(b[32:], (bits.RotateLeft64(target*inverse(p1), -31)-round(v1, i))*inverse(p2))
	return string(b)
}

// The table hash is seeded per cache, so that an adversary who does not know
// the seed cannot aim keys at one bucket (Cache.hash). A seed applied after
// an unseeded xxhash64 of the key, as it once was (rehash(hashKey(key) ^
// seed)), keeps xxhash64's collisions, which are free to construct: 2,000
// keys with one xxhash64 made one bucket chain of 2,000 entries in every
// cache, every Get of them walked it (about 1000x slower than a normal Get)
// and every Set walked it holding the cache's lock (inserting n keys took
// O(n²), blocking all other Sets).
func TestHostileTableHashResistsCollidingKeys(t *testing.T) {
	if xxhash.Sum64String(xxh64Colliding(1)) != xxhash.Sum64String(xxh64Colliding(2)) {
		t.Fatal("test bug: the constructed keys do not collide")
	}
	c, err := New(&Options[string, int]{MaxWeight: 100_000, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 2000
	for i := range uint64(n) {
		if err := c.Set(xxh64Colliding(i), 1); err != nil {
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
