package cache

import (
	"sync/atomic"
	"unsafe"
)

// Stats is a snapshot of a Cache's counters, taken by Cache.Stats. Counts are
// since New.
type Stats struct {
	Hits   uint64 // Gets that found a live entry
	Misses uint64 // Gets that found none, or an expired one

	// Removals by reason (see Reason).
	Evicted  uint64 // removed by the policy to stay within the budget
	Expired  uint64 // removed when their TTL ran out
	Deleted  uint64 // removed by Delete
	Replaced uint64 // values replaced by a Set of the same key

	Admitted uint64 // Sets of new keys that the policy kept
	Rejected uint64 // Sets that the policy turned away at once (Reason Rejected)

	Len       int   // entries now
	Weight    int64 // sum of the weights of the entries now (bytes, with a byte weigher)
	MaxWeight int64 // the budget
}

// HitRatio returns Hits / (Hits + Misses), or 0 before the first Get.
func (s Stats) HitRatio() float64 {
	if s.Hits+s.Misses == 0 {
		return 0
	}
	return float64(s.Hits) / float64(s.Hits+s.Misses)
}

// Reason says why an entry left the cache; OnEvict receives it.
type Reason int

const (
	// Evicted: the policy chose the entry to make room within the budget.
	Evicted Reason = iota
	// Expired: its TTL ran out (seen by a Get or by the background sweep).
	Expired
	// Deleted: Delete removed it.
	Deleted
	// Replaced: a Set of the same key replaced its value.
	Replaced
	// Rejected: a Set offered it, and the policy preferred what it already held
	// (or it weighs more than the whole budget); it was never stored.
	Rejected
)

var reasonNames = [...]string{Evicted: "evicted", Expired: "expired", Deleted: "deleted", Replaced: "replaced", Rejected: "rejected"}

// String returns the reason in lower case.
func (r Reason) String() string {
	if r >= 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// stripeHint returns a number that differs between goroutines and rarely
// changes within one (it derives from the address of the goroutine's stack), so
// that goroutines pick different stripes of striped counters and buffers
// without the cost of a random number.
func stripeHint() uint32 {
	var local byte
	return uint32(rehash(uint64(uintptr(unsafe.Pointer(&local))) >> 10))
}

// counter is a striped counter: many goroutines add to different cells, so
// adding never contends; reading sums the cells.
type counter struct{ cells []paddedUint64 }

type paddedUint64 struct {
	n atomic.Uint64
	_ [56]byte
}

func (c *counter) init(n int) { c.cells = make([]paddedUint64, n) }

// add adds 1 in the cell picked by r.
func (c *counter) add(r uint32) { c.cells[int(r)&(len(c.cells)-1)].n.Add(1) }

// load returns the sum of the cells.
func (c *counter) load() uint64 {
	var sum uint64
	for i := range c.cells {
		sum += c.cells[i].n.Load()
	}
	return sum
}
