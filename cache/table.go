package cache

import (
	"sync"
	"sync/atomic"
)

// entry is one key and value of a Cache. Its fields never change after it is
// published in a table, so readers need no lock, except next, the bucket chain,
// updated atomically, and a pointer-free value, which a Set may rewrite in
// place under seq (see value.go).
type entry[K comparable, V any] struct {
	value  V             // first, so that it starts on a word; seq's alignment pads it to whole words
	seq    atomic.Uint64 // odd while the value is being rewritten
	key    K
	weight int64
	expire int64 // the cache clock's nanoseconds at which it expires; 0 = never
	next   atomic.Pointer[entry[K, V]]
}

// shard is one part of the cache's hash table: chained buckets read without
// locks and written under mu.
type shard[K comparable, V any] struct {
	buckets atomic.Pointer[bucketArray[K, V]] // read by every Get; replaced whole when it grows
	_       [56]byte                          // so that writers locking mu do not evict it from readers' caches
	mu      sync.Mutex                        // protects writes to buckets and count
	count   int                               // entries, under mu
	_       [48]byte
}

// bucketArray is a power-of-two array of chain heads.
type bucketArray[K comparable, V any] struct {
	heads []atomic.Pointer[entry[K, V]]
	mask  uint64
}

func newBucketArray[K comparable, V any](n int) *bucketArray[K, V] {
	return &bucketArray[K, V]{heads: make([]atomic.Pointer[entry[K, V]], n), mask: uint64(n - 1)}
}

// find returns the entry of key, or nil. It takes no lock: it sees each chain
// as some writer left it, which is enough, because entries never change.
func (s *shard[K, V]) find(h uint64, key K) *entry[K, V] {
	b := s.buckets.Load()
	for e := b.heads[h&b.mask].Load(); e != nil; e = e.next.Load() {
		if e.key == key {
			return e
		}
	}
	return nil
}

// putLocked publishes e, of hash h, replacing and returning the entry of the
// same key, if any. hash rehashes keys if the table grows. s.mu must be held.
func (s *shard[K, V]) putLocked(e *entry[K, V], h uint64, hash func(K) uint64) *entry[K, V] {
	b := s.buckets.Load()
	head := &b.heads[h&b.mask]
	for link := head; ; {
		cur := link.Load()
		if cur == nil {
			break
		}
		if cur.key == e.key {
			e.next.Store(cur.next.Load())
			link.Store(e)
			return cur
		}
		link = &cur.next
	}
	e.next.Store(head.Load())
	head.Store(e)
	s.count++
	if s.count > len(b.heads) {
		s.growLocked(b, hash)
	}
	return nil
}

// deleteLocked unlinks and returns the entry of key, or nil. A reader already
// on the removed entry still finds the rest of the chain through its next.
// s.mu must be held.
func (s *shard[K, V]) deleteLocked(h uint64, key K) *entry[K, V] {
	b := s.buckets.Load()
	for link := &b.heads[h&b.mask]; ; {
		cur := link.Load()
		if cur == nil {
			return nil
		}
		if cur.key == key {
			link.Store(cur.next.Load())
			s.count--
			return cur
		}
		link = &cur.next
	}
}

// growLocked doubles the bucket array. Entries are copied, not relinked, so a
// reader still walking the old array sees its chains intact. s.mu must be held.
func (s *shard[K, V]) growLocked(old *bucketArray[K, V], hash func(K) uint64) {
	b := newBucketArray[K, V](2 * len(old.heads))
	for i := range old.heads {
		for e := old.heads[i].Load(); e != nil; e = e.next.Load() {
			c := &entry[K, V]{value: e.value, key: e.key, weight: e.weight, expire: e.expire}
			head := &b.heads[hash(c.key)&b.mask]
			c.next.Store(head.Load())
			head.Store(c)
		}
	}
	s.buckets.Store(b)
}

// each calls fn for every entry; s.mu must be held.
func (s *shard[K, V]) eachLocked(fn func(*entry[K, V])) {
	b := s.buckets.Load()
	for i := range b.heads {
		for e := b.heads[i].Load(); e != nil; e = e.next.Load() {
			fn(e)
		}
	}
}
