package heap

import (
	"sync/atomic"

	"github.com/tiermem/tiermem/cache"
)

// hitBuffer holds the reads the policy has not seen yet. It is striped,
// readers picking stripes at random, so that two readers rarely share one
// (even when they read the same key), and lossy: a read that finds its stripe full, or loses the race for a slot,
// is dropped. Any goroutine adds; one at a time drains (under the policy's
// lock). The zero value is empty and ready.
type hitBuffer struct {
	stripes [hitStripes]hitStripe
}

const (
	hitStripes   = 32 // a power of two
	hitsInStripe = 16 // a power of two
)

// hitStripe is a bounded ring: readers claim a slot by advancing tail, the
// drainer consumes from head.
type hitStripe struct {
	head  atomic.Uint64 // written by the drainer only
	tail  atomic.Uint64 // advanced by readers
	slots [hitsInStripe]atomic.Pointer[cache.Handle[string]]
	_     [48]byte // stripes on cache lines of their own
}

// add files a read of h in the stripe picked by r, a random number, and
// reports whether the stripe is full, the moment to drain.
func (b *hitBuffer) add(h *cache.Handle[string], r uint64) bool {
	s := &b.stripes[r>>32%hitStripes]
	t := s.tail.Load()
	if t-s.head.Load() >= hitsInStripe {
		return true
	}
	if !s.tail.CompareAndSwap(t, t+1) {
		return false // another reader took the slot: drop this read
	}
	s.slots[t%hitsInStripe].Store(h)
	return t+1-s.head.Load() >= hitsInStripe
}

// drain passes every buffered read to fn, a stripe's at a time (fn must
// not keep the slice), and empties the buffer.
func (b *hitBuffer) drain(fn func([]*cache.Handle[string])) {
	var batch [hitsInStripe]*cache.Handle[string]
	for i := range b.stripes {
		s := &b.stripes[i]
		h, t := s.head.Load(), s.tail.Load()
		n := 0
		for ; h < t; h++ {
			x := s.slots[h%hitsInStripe].Swap(nil)
			if x == nil {
				break // claimed but not yet stored: the next drain takes it
			}
			batch[n] = x
			n++
		}
		s.head.Store(h)
		if n > 0 {
			fn(batch[:n])
		}
	}
}
