package keylock_test

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/internal/keylock"
)

// TestSameKeySameLock: a key always maps to one lock, and keys spread.
func TestSameKeySameLock(t *testing.T) {
	var l keylock.Locks
	seen := map[*keylock.Stripe]bool{}
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

// TestReadWithoutTheLock: writers change two counters one after the other
// under Lock; readers read them without the lock between Begin and
// Unchanged. A read that Unchanged keeps always sees the two equal (no
// writer came in the middle), and readers do keep some.
func TestReadWithoutTheLock(t *testing.T) {
	var s keylock.Stripe
	var a, b atomic.Int64
	var kept, dropped atomic.Int64
	var writers, readers sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		writers.Go(func() {
			for i := int64(1); ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				s.Lock()
				a.Store(i)
				runtime.Gosched() // let a reader come in the middle
				b.Store(i)
				s.Unlock()
			}
		})
	}
	for a.Load() == 0 { // the writers are running
		runtime.Gosched()
	}
	deadline := time.Now().Add(2 * time.Second)
	for range 2 {
		readers.Go(func() {
			for kept.Load() < 2000 && time.Now().Before(deadline) {
				v, ok := s.Begin()
				if !ok {
					dropped.Add(1)
					continue
				}
				x, y := a.Load(), b.Load()
				if !s.Unchanged(v) {
					dropped.Add(1)
					continue
				}
				kept.Add(1)
				if x != y {
					t.Errorf("a read kept %d and %d: a writer was in the middle", x, y)
					return
				}
			}
		})
	}
	readers.Wait()
	close(stop)
	writers.Wait()
	if kept.Load() == 0 {
		t.Errorf("no read was kept (%d dropped)", dropped.Load())
	}
}
