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
// The word's low bit is set while the entry is referenced (read, or
// stored, since the hand last cleared it), and its second bit while it was
// read or stored since Idle last cleared that: two marks, so that the
// hand's sweeps, which clear the first, never make a key read since the
// last Idle look idle. The hand clears the first by setting the word to the
// number of the turn it is in, times four, keeping the second bit: the hand
// then passes over the entry for the rest of that turn, as a hand over a
// ring of slots would, however often it sweeps the shard again in another
// order. Turns start at 1, so a word of 0 (or 2) never reads as cleared in
// the current turn.
const (
	referencedBit = 1 // read or stored since the hand last cleared it
	readSinceIdle = 2 // read or stored since Idle last cleared it

	// referencedWord is the word of an entry just read or stored.
	referencedWord = referencedBit | readSinceIdle
)

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
		if key, ok := s.shards[h%shards].sweep(int64(h/shards)<<2, skip, step > shards); ok {
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
		case w&referencedBit != 0:
			// A second chance; a read racing the clear keeps the word set.
			e.word().CompareAndSwap(w, mark|w&readSinceIdle)
			if !second {
				return true
			}
		case w&^readSinceIdle == mark && !second:
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
// the keys idle for at least d. Under CLOCK it then clears every entry's
// read-since-Idle mark (not the hand's reference bit); with a policy, reads
// are what Touch records. fn runs under a shard's read lock and must not
// call the store.
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
		return clearReadSinceIdle(e.word()) || fn(e.key(), e.meta())
	})
}

// clearReadSinceIdle clears word's read-since-Idle mark and reports whether
// it was set; a read racing it sets it again.
func clearReadSinceIdle(word *atomic.Int64) bool {
	for {
		w := word.Load()
		if w&readSinceIdle == 0 {
			return false
		}
		if word.CompareAndSwap(w, w&^readSinceIdle) {
			return true
		}
	}
}
