package heap

import (
	"strings"
	"sync/atomic"

	"github.com/tiermem/tiermem/tier"
)

// Under CLOCK each entry's word is a reference word that every read sets:
// enough for CLOCK (second chance) to choose victims and to find idle keys
// with no memory per key beyond the word. Go maps have no stable order to
// sweep, so the hand moves from shard to shard, and within a shard it takes
// the map's iteration order, which starts at a random place on every sweep.
//
// The word is 1 while the entry is referenced (read, or stored, since the
// hand or Idle last cleared it). The hand clears it to the number of the
// turn it is in, doubled: the hand then passes over the entry for the rest
// of that turn, as a hand over a ring of slots would, however often it
// sweeps the shard again in another order. Turns start at 1, so a word
// Idle cleared to 0 never reads as cleared in the current turn.

// referencedWord is the word of an entry read since it was last cleared.
const referencedWord = 1

// markRead marks an entry read; readers call it under a shard's read lock.
func markRead(word *atomic.Int64) {
	if word.Load() != referencedWord {
		word.Store(referencedWord)
	}
}

// Victim returns the key the store would evict next, skipping those skip
// exempts; it does not remove the key, and returns false only when every
// key is exempt or the store is empty.
//
// Under CLOCK the hand sweeps the shards, giving each referenced key a
// second chance (clearing its word) and stopping at the first unreferenced
// key that skip does not exempt and that it did not clear in its current
// turn. After a full turn that gave every key its second chance, the hand
// takes the next key whatever its word, since readers may set the words
// again faster than it clears them.
//
// With a policy it returns the policy's victim (the store's Exempt entries
// are never in it) unless skip exempts that one too; then the first key
// skip does not exempt, in the shards' order.
func (s *Store) Victim(skip tier.Skip) (string, bool) {
	if s.policy != nil {
		return s.policyVictim(skip)
	}
	for step := 0; step <= 2*shards; step++ {
		h := s.hand.Load() // turn*shards + shard
		if key, ok := s.shards[h%shards].sweep(int64(h/shards)<<1, skip, step > shards); ok {
			return key, true
		}
		s.hand.CompareAndSwap(h, h+1) // the next shard; past the last, the next turn
	}
	return "", false
}

// sweep returns the shard's first victim: a key neither referenced nor
// cleared in this turn, whose word is mark (clearing the words of the
// referenced keys it passes to mark), or, with second, any key; skip
// exempts keys.
func (sh *shard) sweep(mark int64, skip tier.Skip, second bool) (string, bool) {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	var victim string
	sh.values.each(func(e slot) bool {
		switch w := e.word().Load(); {
		case w == referencedWord:
			// A second chance; a read racing the clear keeps the word set.
			e.word().CompareAndSwap(w, mark)
			if !second {
				return true
			}
		case w == mark && !second:
			return true // cleared in this turn: the hand has not come back round
		}
		if skip != nil && skip(e.key(), e.meta()) {
			return true
		}
		victim = strings.Clone(e.key()) // not the entry's memory, which it would keep alive
		return false
	})
	return victim, victim != ""
}

// Idle calls fn for every key not read since the previous call to Idle (or
// since it was stored), until fn returns false: calling Idle every d finds
// the keys idle for at least d. Under CLOCK it then clears every reference
// word; with a policy, reads are what Touch records. fn runs under a
// shard's read lock and must not call the store.
func (s *Store) Idle(fn func(key string, meta []byte) bool) {
	if s.policy != nil {
		s.policyIdle(fn)
		return
	}
	for i := range s.shards {
		if !s.shards[i].idle(fn) {
			return
		}
	}
}

func (sh *shard) idle(fn func(key string, meta []byte) bool) bool {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return sh.values.each(func(e slot) bool {
		return e.word().CompareAndSwap(referencedWord, 0) || fn(e.key(), e.meta())
	})
}
