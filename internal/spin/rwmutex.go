// Package spin offers a read-write lock that tries for a moment before it
// sleeps.
//
// The tiers' shard locks are held for a few hundred nanoseconds: a lookup,
// a record's copy. A sync.RWMutex whose reader meets a writer (or whose
// writer meets a reader) parks the goroutine at once, and waking it costs
// the waker's CPU a futex call and the sleeper tens of microseconds on a
// virtual machine, a hundred times the wait it avoided. RWMutex tries the
// lock again, yielding its processor between tries, for about as long as
// such a section lasts, and only then waits as sync.RWMutex does.
//
// Yielding, not spinning, between tries is a choice measured both ways
// (BENCHMARKS.md, "Shard locks that try before they sleep"). With as many
// goroutines as processors (benchmarks/kv's mixed load) both made the load
// 1.1–1.8× faster. In a server with many more goroutines than processors,
// where a parked goroutine costs nothing (its processor runs another), a
// busy wait of a few microseconds sometimes cost a fifth of the
// throughput, and yielding cost nothing measurable, though a yielding
// goroutine may wait behind every runnable one.
package spin

import (
	"runtime"
	"sync"
)

// tries is how many times Lock and RLock try before they wait: each try
// after the first yields the processor once (runtime.Gosched, a few hundred
// nanoseconds when nothing else is runnable), so a lock held for a few
// microseconds is taken without sleeping.
const tries = 32

// RWMutex is a sync.RWMutex whose Lock and RLock try for a moment before
// they wait. It keeps sync.RWMutex's rules: a writer waiting in Lock keeps
// new readers out, so writers are not starved; TryRLock fails while one
// waits. The zero value is unlocked; it must not be copied after first use.
type RWMutex struct{ sync.RWMutex }

// Lock takes the lock for writing.
func (m *RWMutex) Lock() {
	for range tries {
		if m.TryLock() {
			return
		}
		runtime.Gosched()
	}
	m.RWMutex.Lock()
}

// RLock takes the lock for reading.
func (m *RWMutex) RLock() {
	for range tries {
		if m.TryRLock() {
			return
		}
		runtime.Gosched()
	}
	m.RWMutex.RLock()
}
