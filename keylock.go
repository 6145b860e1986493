package tiermem

import (
	"sync"

	"github.com/cespare/xxhash/v2"
)

// keyLockCount is the number of stripes: two keys share a lock with
// probability 1/4096, so a long move of one key rarely delays another.
const keyLockCount = 4096

// keyLocks orders the operations on each key. Writers (Store, Delete, moves)
// hold a key's stripe exclusively; readers take it shared only when their
// lock-free lookup missed, to see the key's tiers in a consistent state.
// A goroutine never holds two stripes at once.
type keyLocks [keyLockCount]sync.RWMutex

func (l *keyLocks) of(key string) *sync.RWMutex {
	return &l[xxhash.Sum64String(key)%keyLockCount]
}
