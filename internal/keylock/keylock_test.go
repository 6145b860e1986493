package keylock_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/tiermem/tiermem/internal/keylock"
)

// TestSameKeySameLock: a key always maps to one lock, and keys spread.
func TestSameKeySameLock(t *testing.T) {
	var l keylock.Locks
	seen := map[*sync.RWMutex]bool{}
	for i := range 1000 {
		key := fmt.Sprint("key", i)
		if first, again := l.Of(key), l.Of(key); first != again {
			t.Fatalf("%q maps to two locks", key)
		}
		seen[l.Of(key)] = true
	}
	if len(seen) < 800 {
		t.Errorf("1000 keys share %d stripes; want them spread", len(seen))
	}
}

// TestLockOrdersWriters: increments under a key's lock are not lost.
func TestLockOrdersWriters(t *testing.T) {
	var l keylock.Locks
	n := 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				mu := l.Of("k")
				mu.Lock()
				n++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if n != 8000 {
		t.Fatalf("n = %d, want 8000", n)
	}
}
