package cache

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// entry is one key and value of a Cache. It embeds the policy's node, which
// holds its key, its weight and the policy's links, so that the policy needs
// neither an allocation nor a map slot of its own per entry (see linked): for
// uint64 keys and values an entry is 64 bytes, one size class.
//
// The key, weight and expire never change after the entry is published in a
// table, so readers need no lock; next, the bucket chain, is updated
// atomically; a pointer-free value may be rewritten in place under seq (see
// value.go); the node's links and queue belong to the policy, under the
// cache's mu, and readers never look at them. An entry is linked in the policy
// exactly while it is published in the table: both change together under mu.
type entry[K comparable, V any] struct {
	node[K]       // first, so that entryOf can find the entry of a node; seq is in its last word
	value   V     // on a word after the node; expire's alignment pads it to whole words
	expire  int64 // the cache clock's nanoseconds at which it expires; 0 = never
	next    atomic.Pointer[entry[K, V]]
}

// entryOf returns the entry whose node is n. n must be the node of an entry
// (every node a Cache's policy holds is): the node is the entry's first field,
// so both start at the same address.
func entryOf[K comparable, V any](n *node[K]) *entry[K, V] {
	return (*entry[K, V])(unsafe.Pointer(n))
}

// shard is one part of the cache's hash table: chained buckets read without
// locks and written under mu.
type shard[K comparable, V any] struct {
	buckets atomic.Pointer[bucketArray[K, V]] // read by every Get; replaced whole when it grows
	// resizes counts the starts and ends of growths: odd while one relinks
	// the entries, so that a reader that missed then looks again.
	resizes atomic.Uint64
	_       [48]byte   // so that writers locking mu do not evict the above from readers' caches
	mu      sync.Mutex // protects writes to buckets and count
	count   int        // entries, under mu
	_       [48]byte
}

// bucketArray is an array of chain heads. A hash's bucket is picked from its
// low 32 bits by a multiply and a shift, not a mask, so that the array can
// have any length: a table sized for a known number of entries wastes no
// power-of-two slack.
type bucketArray[K comparable, V any] struct {
	heads []atomic.Pointer[entry[K, V]]
	n     uint64 // len(heads), at most maxBuckets
}

// maxBuckets is the most buckets of a shard: head's multiply needs n ≤ 2^32.
const maxBuckets = 1 << 32

func newBucketArray[K comparable, V any](n int) *bucketArray[K, V] {
	n = max(n, 1)
	return &bucketArray[K, V]{heads: make([]atomic.Pointer[entry[K, V]], n), n: uint64(n)}
}

// head returns the chain head of hash h. The low bits of h pick it: the high
// bits picked the shard.
func (b *bucketArray[K, V]) head(h uint64) *atomic.Pointer[entry[K, V]] {
	return &b.heads[uint64(uint32(h))*b.n>>32]
}

// find returns the entry of key, or nil. It takes no lock: it sees each chain
// as some writer left it, which is enough, because an entry's key never
// changes and a chain's entries are removed by relinking around them, except
// while a growth relinks every entry into a new array: a reader that misses
// while one runs, or ran since the reader started, looks again.
func (s *shard[K, V]) find(h uint64, key K) *entry[K, V] {
	r := s.resizes.Load()
	if e := s.buckets.Load().find(h, key); e != nil || r&1 == 0 && s.resizes.Load() == r {
		return e
	}
	return s.findAgain(h, key)
}

// findAgain is find after a miss that a growth may have caused: it looks
// until it finds key or misses with no growth under way or in between.
func (s *shard[K, V]) findAgain(h uint64, key K) *entry[K, V] {
	for {
		runtime.Gosched()
		r := s.resizes.Load()
		if e := s.buckets.Load().find(h, key); e != nil || r&1 == 0 && s.resizes.Load() == r {
			return e
		}
	}
}

// find walks the chain of hash h for key.
func (b *bucketArray[K, V]) find(h uint64, key K) *entry[K, V] {
	for e := b.head(h).Load(); e != nil; e = e.next.Load() {
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
	head := b.head(h)
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
	if uint64(s.count) > b.n && b.n < maxBuckets {
		s.growLocked(b, hash)
	}
	return nil
}

// deleteLocked unlinks and returns the entry of key, or nil. A reader already
// on the removed entry still finds the rest of the chain through its next.
// s.mu must be held.
func (s *shard[K, V]) deleteLocked(h uint64, key K) *entry[K, V] {
	b := s.buckets.Load()
	for link := b.head(h); ; {
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

// growLocked doubles the bucket array. The entries are relinked, not copied,
// because the policy holds them (their nodes): a reader walking a chain
// meanwhile may be led into another chain and miss, and find then looks again
// (see resizes). A walk still ends: an entry's next changes once, to an entry
// relinked before it. s.mu must be held.
func (s *shard[K, V]) growLocked(old *bucketArray[K, V], hash func(K) uint64) {
	b := newBucketArray[K, V](2 * len(old.heads))
	s.resizes.Add(1)
	for i := range old.heads {
		for e := old.heads[i].Load(); e != nil; {
			next := e.next.Load()
			head := b.head(hash(e.key))
			e.next.Store(head.Load())
			head.Store(e)
			e = next
		}
	}
	s.buckets.Store(b)
	s.resizes.Add(1)
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
