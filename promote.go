package tiermem

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// promotions holds the keys read often enough to move up a tier, for the
// next migration pass. A read of a key already queued costs one atomic load:
// a bitmap filed by key hash says which keys may be queued (a key whose bit
// another set by mistake waits for the pass after), and only the reads that
// find their bit clear take the lock of one of the set's stripes. It holds
// at most maxPromotionQueue keys. Use newPromotions.
type promotions struct {
	queued  [queuedWords]atomic.Uint64 // bit h % queuedBits: a key with hash h may be queued
	stripes [promotionStripes]promotionStripe
	n       atomic.Int64 // keys queued
}

const (
	// maxPromotionQueue bounds the keys waiting for promotion between passes.
	maxPromotionQueue = 1 << 16
	// queuedBits is 16 bits a queued key: a key is skipped by mistake with
	// probability at most 1/16 while the queue is full, far less usually.
	queuedBits  = 16 * maxPromotionQueue
	queuedWords = queuedBits / 64
	// promotionStripes is a power of two: with 2 to 16 cores queueing, two
	// rarely meet on one stripe.
	promotionStripes = 32
)

type promotionStripe struct {
	mu    sync.Mutex          // protects keys and arena
	keys  map[string]struct{} // copies of the keys in arena, never the caller's strings
	arena []byte              // the keys' bytes, appended: one allocation for many keys
	_     [24]byte            // to 64 bytes, a cache line
}

func newPromotions() *promotions {
	p := &promotions{}
	for i := range p.stripes {
		p.stripes[i].keys = map[string]struct{}{}
	}
	return p
}

// add queues key, whose hash is h, unless it is queued or the queue is
// full; it keeps a copy of the key.
func (p *promotions) add(key string, h uint64) {
	word, bit := &p.queued[h%queuedBits/64], uint64(1)<<(h%64)
	if word.Load()&bit != 0 || p.n.Load() >= maxPromotionQueue {
		return
	}
	s := &p.stripes[(h>>32)%promotionStripes]
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, queued := s.keys[key]; queued || p.n.Load() >= maxPromotionQueue {
		return
	}
	s.keys[s.copyKey(key)] = struct{}{}
	p.n.Add(1)
	word.Or(bit)
}

// copyKey returns a copy of key in the stripe's arena. Bytes once appended
// are never written again (take drops the arena rather than reuse it), so
// the strings over them stay valid for as long as anyone holds them.
func (s *promotionStripe) copyKey(key string) string {
	if s.arena == nil {
		s.arena = make([]byte, 0, arenaStart)
	}
	at := len(s.arena)
	s.arena = append(s.arena, key...)
	return unsafe.String(&s.arena[at], len(key))
}

// arenaStart is the first capacity of a stripe's arena: room for a few
// hundred keys before it grows.
const arenaStart = 4 << 10

// take empties the queue and returns what it held.
func (p *promotions) take() []string {
	keys := make([]string, 0, p.n.Load())
	for i := range p.stripes {
		s := &p.stripes[i]
		s.mu.Lock()
		for key := range s.keys {
			keys = append(keys, key)
		}
		p.n.Add(-int64(len(s.keys)))
		clear(s.keys)
		s.arena = nil // the keys returned point into it
		s.mu.Unlock()
	}
	for i := range p.queued {
		p.queued[i].Store(0)
	}
	return keys
}
