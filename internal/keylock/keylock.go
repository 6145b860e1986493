// Package keylock orders the operations on each key with a fixed array of
// striped read-write locks: no memory per key, and two keys share a stripe
// with probability 1/Stripes.
package keylock

import (
	"sync"

	"github.com/cespare/xxhash/v2"
)

// Stripes is the number of locks: 4096, so that a long operation on one key
// rarely delays another.
const Stripes = 4096

// Locks is a set of striped locks. The zero value is ready to use; it must
// not be copied. A goroutine must never hold two stripes at once: two keys
// may share one, and a second Lock on it would deadlock.
type Locks [Stripes]sync.RWMutex

// Of returns the lock of key's stripe.
func (l *Locks) Of(key string) *sync.RWMutex {
	return &l[xxhash.Sum64String(key)%Stripes]
}
