package heap

import (
	"sync/atomic"
	"unsafe"
)

// PrepareLookups reads the buckets of keys, then the data of those the
// store holds, so that the lookups that follow find them in the CPU's
// cache. A table much larger than the cache costs a lookup one or two
// memory latencies (the bucket, then the entry's data); reading a batch's
// buckets in one pass and their data in a second lets the processor wait
// for all of them at once instead of one after another, as a pipeline of
// requests allows. It changes nothing (read locks only), records no read,
// and keeps no reference to keys. It never waits: a key whose shard is
// being written is skipped (its lookup waits anyway; a prefetch that
// yielded behind every runnable goroutine made a server's tail longer). It
// is safe for concurrent use, and does nothing on a closed or empty store.
func (s *Store) PrepareLookups(keys [][]byte) {
	if s.count.Load() == 0 {
		return
	}
	var sum uint64
	for _, k := range keys {
		sh, h := s.shard(keyString(k))
		if !sh.mu.TryRLock() { // being written: skipped (see above)
			continue
		}
		if t := &sh.values; t.n > 0 && !sh.closed {
			sum += t.buckets[t.home(h)].hash
		}
		sh.mu.RUnlock()
	}
	for _, k := range keys {
		key := keyString(k)
		sh, h := s.shard(key)
		if !sh.mu.TryRLock() { // being written: skipped (see above)
			continue
		}
		if i := sh.values.find(key, h); i >= 0 && !sh.closed {
			sum += uint64(sh.values.buckets[i].e.word().Load()) // the word is written by readers, atomically
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
