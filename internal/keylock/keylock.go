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
// not be copied. A goroutine that holds a stripe may take another only in
// the stripes' order (by address), and never the same one twice: two keys
// may share a stripe, and a second Lock on it would deadlock. Holders of
// several stripes (a pair of keys, every stripe in order) taken in that
// order cannot deadlock one another.
type Locks [Stripes]sync.RWMutex

// Of returns the lock of key's stripe.
func (l *Locks) Of(key string) *sync.RWMutex {
	return &l[xxhash.Sum64String(key)%Stripes]
}
