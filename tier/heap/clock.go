package heap

import (
	"sync/atomic"

	"github.com/tiermem/tiermem/tier"
)

// Each entry keeps a reference word that every read sets: enough for CLOCK
// (second chance) to choose victims and to find idle keys with no memory
// per key beyond the word. Go maps have no stable order to sweep, so the
// hand moves from shard to shard, and within a shard it takes the map's
// iteration order, which starts at a random place on every sweep.

// touch marks an entry read; readers call it under a shard's read lock.
func touch(ref *uint32) {
	if atomic.LoadUint32(ref) == 0 {
		atomic.StoreUint32(ref, 1)
	}
}

// Victim returns the key CLOCK would evict next: the hand sweeps the
// shards, giving each referenced key a second chance (clearing its word)
// and stopping at the first unreferenced key that skip does not exempt.
// After a full turn that gave every key its second chance, the hand takes
// the next key whatever its word, since readers may set the words again
// faster than it clears them. It returns false only when every key is
// exempt or the store is empty, and it does not remove the key.
func (s *Store) Victim(skip tier.Skip) (string, bool) {
	for turn := 0; turn <= 2*shards; turn++ {
		i := s.hand.Load() % shards
		if key, ok := s.shards[i].sweep(skip, turn > shards); ok {
			return key, true
		}
		s.hand.CompareAndSwap(i, (i+1)%shards)
	}
	return "", false
}

// sweep returns the shard's first victim: an unreferenced key (clearing the
// words it passes) or, with second, any key; skip exempts keys.
func (sh *shard) sweep(skip tier.Skip, second bool) (string, bool) {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	for key, e := range sh.values {
		if atomic.SwapUint32(e.ref(), 0) != 0 && !second {
			continue
		}
		if skip != nil && skip(key, e.meta()) {
			continue
		}
		return key, true
	}
	return "", false
}

// Idle calls fn for every key not read since the previous call to Idle (or
// since it was stored), and then clears every reference word: calling Idle
// every d finds the keys idle for at least d. fn runs under a shard's read
// lock and must not call the store.
func (s *Store) Idle(fn func(key string, meta []byte) bool) {
	for i := range s.shards {
		if !s.shards[i].idle(fn) {
			return
		}
	}
}

func (sh *shard) idle(fn func(key string, meta []byte) bool) bool {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	for key, e := range sh.values {
		if atomic.SwapUint32(e.ref(), 0) == 0 && !fn(key, e.meta()) {
			return false
		}
	}
	return true
}
