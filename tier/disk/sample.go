package disk

import (
	"math/rand/v2"

	"github.com/tiermem/tiermem/tier"
)

// What the Manager uses to choose the cold tier's victims with no memory
// per key: a sample of the live keys, of which the one written longest ago
// leaves first (Redis's approximated eviction, by write age), and the keys
// not written since a mark. The store tracks no reads: a key read often
// enough leaves the cold tier upward, by promotion.

// Oldest returns, of about n live keys sampled at random (skipping those
// skip exempts), the one whose record was written first; false when the
// store holds no key skip does not exempt. It looks at one shard after
// another from a random one, and at each shard's keys from a random place,
// until it has n; it takes each shard's read lock in turn.
func (s *Store) Oldest(n int, skip tier.Skip) (string, bool) {
	t, ok := s.gate.Enter()
	if !ok {
		return "", false
	}
	defer s.gate.Leave(t)
	return s.index.oldest(n, skip)
}

func (x *index) oldest(n int, skip tier.Skip) (string, bool) {
	var best string
	var bestSeq uint64
	found := 0
	start := rand.IntN(shardCount)
	for i := range shardCount {
		sh := &x.shards[(start+i)%shardCount]
		sh.mu.RLock()
		for k, e := range sh.m { // a map's range starts at a random place; e points at the entry
			if e.tomb || skip != nil && skip(k, e.meta()) {
				continue
			}
			if found == 0 || e.seq < bestSeq {
				best, bestSeq = k, e.seq
			}
			if found++; found >= n {
				break
			}
		}
		sh.mu.RUnlock()
		if found >= n {
			break
		}
	}
	return best, found > 0
}

// LastSeq returns the sequence number of the newest record the index has
// applied: a mark for WrittenBefore.
func (s *Store) LastSeq() uint64 { return s.index.lastSeq.Load() }

// WrittenBefore calls fn for every live key whose record was written
// before the record numbered seq (not written since LastSeq returned seq),
// until fn returns false. fn runs under a shard's read lock: it must not
// call the store, and meta is valid only during the call.
func (s *Store) WrittenBefore(seq uint64, fn func(key string, meta []byte) bool) {
	t, ok := s.gate.Enter()
	if !ok {
		return
	}
	defer s.gate.Leave(t)
	for i := range s.index.shards {
		if !s.index.shards[i].writtenBefore(seq, fn) {
			return
		}
	}
}

func (sh *shard) writtenBefore(seq uint64, fn func(key string, meta []byte) bool) bool {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	for k, e := range sh.m { // e points at the entry
		if !e.tomb && e.seq < seq && !fn(k, e.meta()) {
			return false
		}
	}
	return true
}

// noteSeq raises lastSeq to seq.
func (x *index) noteSeq(seq uint64) {
	for {
		cur := x.lastSeq.Load()
		if seq <= cur || x.lastSeq.CompareAndSwap(cur, seq) {
			return
		}
	}
}
