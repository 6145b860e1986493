package cache

import "sync/atomic"

// readBuffer collects the hits that the policy has not seen yet, so that a Get
// never waits for the policy's lock. It is striped to spread contention, and
// lossy: when a stripe is full a hit is dropped (the policy's statistics need
// most hits, not all). The owner drains it under its lock.
type readBuffer[K comparable, V any] struct {
	stripes []stripe[K, V]
	mask    uint32
}

const stripeSize = 16 // hits per stripe; a power of two

// stripe is a bounded ring: producers claim a slot by advancing tail, the
// drainer consumes from head.
type stripe[K comparable, V any] struct {
	head  atomic.Uint64 // written by the drainer only
	tail  atomic.Uint64 // advanced by producers
	hits  atomic.Uint64 // every hit, recorded or dropped: the cache's hit count
	slots [stripeSize]atomic.Pointer[entry[K, V]]
	_     [40]byte // keep stripes on separate cache lines
}

func (b *readBuffer[K, V]) init(n int) {
	b.stripes = make([]stripe[K, V], n)
	b.mask = uint32(n - 1)
}

// add records a hit on e in the stripe picked by r, counting it; it reports
// whether the stripe is full, the moment to drain.
func (b *readBuffer[K, V]) add(e *entry[K, V], r uint32) bool {
	b.stripes[r&b.mask].hits.Add(1)
	return b.record(e, r)
}

// record files an access of e for the policy, as add does, without counting
// a hit: a Set that rewrites a value in place is a use of the key, not a Get
// that found it.
func (b *readBuffer[K, V]) record(e *entry[K, V], r uint32) bool {
	s := &b.stripes[r&b.mask]
	t := s.tail.Load()
	if t-s.head.Load() >= stripeSize {
		return true
	}
	if !s.tail.CompareAndSwap(t, t+1) {
		return false // another Get took the slot: drop this hit
	}
	s.slots[t%stripeSize].Store(e)
	return t+1-s.head.Load() >= stripeSize
}

// hits returns the number of hits added, dropped ones included.
func (b *readBuffer[K, V]) hits() uint64 {
	var n uint64
	for i := range b.stripes {
		n += b.stripes[i].hits.Load()
	}
	return n
}

// drain passes every buffered hit to fn. Only one goroutine may drain at a time.
func (b *readBuffer[K, V]) drain(fn func(*entry[K, V])) {
	for i := range b.stripes {
		s := &b.stripes[i]
		h, t := s.head.Load(), s.tail.Load()
		for ; h < t; h++ {
			e := s.slots[h%stripeSize].Swap(nil)
			if e == nil {
				break // claimed but not yet stored: the next drain takes it
			}
			fn(e)
		}
		s.head.Store(h)
	}
}
