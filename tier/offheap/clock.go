package offheap

import (
	"sync/atomic"

	"github.com/tiermem/tiermem/tier"
)

// The store keeps, in each index slot, a reference bit that every read sets:
// enough for the CLOCK policy (second chance) to choose victims and to find
// idle keys without any memory per key.

// clockHand is where the CLOCK hand stands: a shard and a position in it.
type clockHand struct {
	pos atomic.Uint64 // shard<<32 | position
}

// Victim returns the key that CLOCK would evict next: the hand sweeps the
// index, giving each referenced key a second chance (clearing its bit) and
// stopping at the first unreferenced key that skip does not exempt. It
// returns false only when every key is exempt or the store is empty: after
// a full turn that gave every key its second chance, the hand takes the
// next key whatever its bit, since readers may set the bits again faster
// than it clears them. It does not remove the key.
func (s *Store) Victim(skip tier.Skip) (string, bool) {
	// Two full turns (the first may only clear reference bits) and the rest
	// of the shard the hand starts in.
	for turn := 0; turn <= 2*shardCount; turn++ {
		hand := s.hand.pos.Load()
		shard, pos := int(hand>>32)%shardCount, int(hand&0xffffffff)
		if key, next, ok := s.sweepShard(&s.shards[shard], pos, skip, turn > shardCount); ok {
			s.hand.pos.Store(uint64(shard)<<32 | uint64(next))
			return key, true
		}
		s.hand.pos.Store(uint64((shard+1)%shardCount) << 32)
	}
	return "", false
}

// sweepShard moves the hand from pos to the end of the shard's index and
// returns the first victim and the position after it; with second, keys
// have had their second chance and referenced ones are taken too.
func (s *Store) sweepShard(sh *shard, pos int, skip tier.Skip, second bool) (key string, next int, ok bool) {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if s.closed.Load() {
		return "", 0, false
	}
	for i := pos; i < len(sh.idx.slots); i++ {
		slot := sh.idx.load(uint64(i))
		if slot <= tombstone || sh.idx.clearReference(i) && !second {
			continue
		}
		r := readRecord(s.space.record(slotLocation(slot)))
		if skip != nil && skip(string(r.key), r.meta) {
			continue
		}
		return string(r.key), i + 1, true
	}
	return "", 0, false
}

// Idle calls fn for every key not read since the previous call to Idle (or
// since it was stored), and then clears every key's Idle reference bit (not
// the hand's: Victim's sweeps leave Idle's alone): calling Idle every d
// finds the keys idle for at least d. fn runs under a shard's read lock and
// must not call the store.
func (s *Store) Idle(fn func(key string, meta []byte) bool) {
	for i := range s.shards {
		if !s.idleShard(&s.shards[i], fn) {
			return
		}
	}
}

func (s *Store) idleShard(sh *shard, fn func(key string, meta []byte) bool) bool {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if s.closed.Load() {
		return false
	}
	goOn := true
	sh.idx.each(func(pos int, loc uint64) bool {
		if sh.idx.clearIdleRef(pos) {
			return true
		}
		r := readRecord(s.space.record(loc))
		goOn = fn(string(r.key), r.meta)
		return goOn
	})
	return goOn
}
