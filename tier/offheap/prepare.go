package offheap

import (
	"sync/atomic"
	"unsafe"
)

// PrepareLookups reads the index slots of keys, then the records of those
// the store holds, so that the lookups that follow find them in the CPU's
// cache: reading a batch's slots in one pass and their records in a second
// lets the processor wait for all of them at once instead of one after
// another (see tier.LookupPreparer). It changes nothing, sets no reference
// bit, and keeps no reference to keys. It never waits: a key whose shard is
// being written is skipped. It is safe for concurrent use, and does nothing
// on a closed or empty store.
func (s *Store) PrepareLookups(keys [][]byte) {
	if s.count.Load() == 0 {
		return
	}
	var sum uint64
	for _, k := range keys {
		hash := Hash(keyString(k))
		sh := s.shardOf(hash)
		if !sh.mu.TryRLock() { // being written: skipped (see above)
			continue
		}
		if !s.closed.Load() {
			sum += sh.idx.load(sh.idx.home(hash))
		}
		sh.mu.RUnlock()
	}
	for _, k := range keys {
		key := keyString(k)
		hash := Hash(key)
		sh := s.shardOf(hash)
		if !sh.mu.TryRLock() { // being written: skipped (see above)
			continue
		}
		if !s.closed.Load() {
			if pos, _, loc, _ := s.findLocked(sh, key, hash); pos >= 0 {
				sum += loc
			}
		}
		sh.mu.RUnlock()
	}
	if sum == 1 { // never, in effect: a use of the loads, so that they are not optimised away
		prepared.Store(sum)
	}
}

// prepared is where PrepareLookups would keep its sum; nothing reads it.
var prepared atomic.Uint64

// keyString returns a string over key's bytes, valid while they do not change.
func keyString(key []byte) string { return unsafe.String(unsafe.SliceData(key), len(key)) }
