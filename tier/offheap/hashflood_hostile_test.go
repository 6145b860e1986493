package offheap

import (
	"encoding/binary"
	"math/bits"
	"testing"

	"github.com/cespare/xxhash/v2"
)

// xxh64Colliding returns the i-th of many 64-byte keys with one and the
// same xxhash64 (seed 0), as an attacker builds them at no cost: each of
// XXH64's lane rounds is a bijection of its accumulator, so the second
// stripe's first lane can be solved to undo any change to the first
// stripe's first lane.
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
	v1 += p2 // lane 1's accumulator at seed 0 (wrapping)
	target := round(round(v1, 0), 0)
	b := make([]byte, 64)
	binary.LittleEndian.PutUint64(b[0:], i)
	binary.LittleEndian.PutUint64(b[32:], (bits.RotateLeft64(target*inverse(p1), -31)-round(v1, i))*inverse(p2))
	return string(b)
}

// TestHostileCollidingKeysDoNotShareAProbe: keys a client chose so that
// they share a well-known hash (here xxhash64, which anyone can collide
// by construction) spread over the index as any keys do. Had the index
// hashed by a public function, the 4,000 keys would share one shard and
// one home, every Put and Get of them would walk a run of thousands of
// slots under the shard's lock, and a server's clients could stall the
// warm tier with a few thousand SETs.
func TestHostileCollidingKeysDoNotShareAProbe(t *testing.T) {
	if xxhash.Sum64String(xxh64Colliding(1)) != xxhash.Sum64String(xxh64Colliding(2)) {
		t.Fatal("test bug: the constructed keys do not collide")
	}
	s, err := New(&Options{Capacity: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 4000
	for i := range uint64(n) {
		if _, err := s.Put(xxh64Colliding(i), []byte("v"), nil); err != nil {
			t.Fatal(err)
		}
	}
	longest := 0
	for i := range s.shards {
		x := s.shards[i].idx
		for pos := range x.slots {
			if slot := x.slots[pos]; slot > tombstone {
				longest = max(longest, int((uint64(pos)-x.homeOfSlot(slot))&x.mask))
			}
		}
	}
	if longest > 64 {
		t.Fatalf("%d keys with one xxhash64: a probe runs %d slots past its home", n, longest)
	}
	for i := range uint64(n) {
		if _, err := s.Get(xxh64Colliding(i), nil); err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
	}
}
