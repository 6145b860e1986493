package offheap

import (
	"testing"

	"github.com/cespare/xxhash/v2"

	"github.com/tiermem/tiermem/internal/hashflood"
)

// TestHostileCollidingKeysDoNotShareAProbe: keys a client chose so that
// they share a well-known hash (here xxhash64, which anyone can collide
// by construction) spread over the index as any keys do. Had the index
// hashed by a public function, the 4,000 keys would share one shard and
// one home, every Put and Get of them would walk a run of thousands of
// slots under the shard's lock, and a server's clients could stall the
// warm tier with a few thousand SETs.
func TestHostileCollidingKeysDoNotShareAProbe(t *testing.T) {
	if xxhash.Sum64String(hashflood.XXH64(1)) != xxhash.Sum64String(hashflood.XXH64(2)) {
		t.Fatal("test bug: the constructed keys do not collide")
	}
	s, err := New(&Options{Capacity: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 4000
	for i := range uint64(n) {
		if _, err := s.Put(hashflood.XXH64(i), []byte("v"), nil); err != nil {
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
		if _, err := s.Get(hashflood.XXH64(i), nil); err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
	}
}
