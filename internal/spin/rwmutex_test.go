package spin

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRWMutexExcludes checks the lock's promise under load: a writer is
// alone, readers see no writer's half-done work. Writers keep two fields
// equal only between Lock and Unlock; any reader that sees them differ, or
// any lost increment, is a broken lock (and -race reports the unsynchronised
// access itself).
func TestRWMutexExcludes(t *testing.T) {
	var (
		mu   RWMutex
		a, b int
		bad  atomic.Int64
		wg   sync.WaitGroup
	)
	const writers, readers, rounds = 4, 4, 2000
	for range writers {
		wg.Go(func() {
			for range rounds {
				mu.Lock()
				a++
				time.Sleep(0) // let a reader try while the fields differ
				b++
				mu.Unlock()
			}
		})
	}
	for range readers {
		wg.Go(func() {
			for range rounds {
				mu.RLock()
				if a != b {
					bad.Add(1)
				}
				mu.RUnlock()
			}
		})
	}
	wg.Wait()
	if bad.Load() != 0 || a != writers*rounds || b != a {
		t.Fatalf("readers saw %d half-done writes; a=%d b=%d, want %d", bad.Load(), a, b, writers*rounds)
	}
}

// TestRWMutexWaitsForALongHolder checks that Lock and RLock, after their
// tries, wait for a holder that keeps the lock far longer than they spin,
// and get it once it is given back.
func TestRWMutexWaitsForALongHolder(t *testing.T) {
	var mu RWMutex
	mu.Lock()
	got := make(chan string, 2)
	go func() { mu.Lock(); got <- "writer"; mu.Unlock() }()
	go func() { mu.RLock(); got <- "reader"; mu.RUnlock() }()
	select {
	case who := <-got:
		t.Fatalf("the %s took the lock while a writer held it", who)
	case <-time.After(50 * time.Millisecond):
	}
	mu.Unlock()
	for range 2 {
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("a waiter never got the lock once it was given back")
		}
	}
}

// TestRWMutexWriterNotStarved checks that readers who keep the lock read-held
// without a gap cannot keep a writer out: once the writer waits, new readers
// wait behind it.
func TestRWMutexWriterNotStarved(t *testing.T) {
	var (
		mu   RWMutex
		stop atomic.Bool
		wg   sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				mu.RLock()
				time.Sleep(100 * time.Microsecond)
				mu.RUnlock()
			}
		})
	}
	defer func() { stop.Store(true); wg.Wait() }()
	time.Sleep(10 * time.Millisecond)
	done := make(chan struct{})
	go func() {
		mu.Lock()
		close(done) // the writer got in
		mu.Unlock()
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a writer waited 10 s behind readers who overlap")
	}
}

// BenchmarkRWMutexShards measures what the lock is for: goroutines on
// every processor taking one of 64 shard locks at random, one in five for
// writing, for a section of two cache misses (a table's slot, then its
// record, in 64 MiB), against sync.RWMutex. Two goroutines rarely meet, so
// this mostly shows that the tries cost nothing when nobody waits; what a
// meeting costs shows in whole loads (benchmarks/kv's mixed load).
func BenchmarkRWMutexShards(b *testing.B) {
	b.Run("spin", func(b *testing.B) { benchShards(b, func() rwLocker { return &RWMutex{} }) })
	b.Run("sync", func(b *testing.B) { benchShards(b, func() rwLocker { return &sync.RWMutex{} }) })
}

type rwLocker interface {
	sync.Locker
	RLock()
	RUnlock()
}

type benchShard struct {
	mu   rwLocker
	data []uint64
}

func benchShards(b *testing.B, newLock func() rwLocker) {
	var shards [64]benchShard
	for i := range shards {
		shards[i] = benchShard{newLock(), make([]uint64, 1<<17)}
	}
	var seed atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		x := seed.Add(0x9e3779b97f4a7c15)
		for pb.Next() {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			sh := &shards[x%64]
			if x>>32%5 == 0 {
				sh.mu.Lock()
				slot := sh.data[x>>40%uint64(len(sh.data))]
				sh.data[(slot^x)%uint64(len(sh.data))] = x
				sh.mu.Unlock()
				continue
			}
			sh.mu.RLock()
			slot := sh.data[x>>40%uint64(len(sh.data))]
			_ = sh.data[(slot^x)%uint64(len(sh.data))]
			sh.mu.RUnlock()
		}
	})
}
