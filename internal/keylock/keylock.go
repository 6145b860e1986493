// Package keylock orders the operations on each key with a fixed array of
// striped read-write locks: no memory per key, and two keys share a stripe
// with probability 1/Stripes.
package keylock

import (
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
	"github.com/tiermem/tiermem/internal/spin"
)

// Stripes is the number of locks: 4096, so that a long operation on one key
// rarely delays another.
const Stripes = 4096

// Locks is a set of striped locks. The zero value is ready to use; it must
// not be copied. A goroutine that holds a stripe may take another only in
// the stripes' order (by address), and never the same one twice: two keys
// may share a stripe, and a second Lock on it would deadlock. Holders of
// several stripes (a pair of keys, every stripe in order) taken in that
// order cannot deadlock one another.
type Locks [Stripes]Stripe

// Of returns the lock of key's stripe.
func (l *Locks) Of(key string) *Stripe {
	return &l[xxhash.Sum64String(key)%Stripes]
}

// Stripe is one lock: a read-write lock whose writers also count their
// turns, so that a reader whose work can be done again may read without
// taking it, and then check that no writer came meanwhile (Begin,
// Unchanged). Taking the read side writes the lock's memory, which the
// other cores then have to fetch back; checking only reads it. The zero
// value is unlocked.
type Stripe struct {
	mu  spin.RWMutex
	seq atomic.Uint64 // writers' turns, twice each: odd while a writer holds the lock
}

// Lock takes the stripe for writing.
func (s *Stripe) Lock() {
	s.mu.Lock()
	s.seq.Add(1)
}

// Unlock gives the stripe back after Lock.
func (s *Stripe) Unlock() {
	s.seq.Add(1)
	s.mu.Unlock()
}

// RLock takes the stripe for reading.
func (s *Stripe) RLock() { s.mu.RLock() }

// RUnlock gives the stripe back after RLock.
func (s *Stripe) RUnlock() { s.mu.RUnlock() }

// Begin starts a read without the lock: it returns the writers' count to
// give Unchanged once the read is done, and false when a writer holds the
// stripe now (the reader then takes RLock).
func (s *Stripe) Begin() (uint64, bool) {
	v := s.seq.Load()
	return v, v&1 == 0
}

// Unchanged reports whether no writer took the stripe since Begin returned
// v: what was read between them is what a reader holding RLock would
// have read, provided that every write it could see was made under Lock.
func (s *Stripe) Unchanged(v uint64) bool { return s.seq.Load() == v }
