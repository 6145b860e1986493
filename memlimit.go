package tiermem

import (
	"math"
	"runtime/debug"
	"runtime/metrics"
)

// The hot tier lives on the Go heap, so the garbage collector's soft
// memory limit (GOMEMLIMIT) should follow its budget: with a limit the
// collector lets the heap grow while the tier is small and collects harder
// as it fills, instead of letting the heap double past the budget.

// memoryLimitFor returns the limit for a hot budget, given the heap the
// process already holds: the budget, a quarter more for the collector's
// headroom, the heap in use at Open and 64 MiB for the rest of the
// process (observe.MemoryLimitFor is the same formula without the heap in
// use). It returns math.MaxInt64 (no limit) for a budget of zero or less
// or when the sum would overflow.
func memoryLimitFor(hotBudget, heapInUse int64) int64 {
	if hotBudget <= 0 {
		return math.MaxInt64
	}
	extra := hotBudget/4 + heapInUse + 64<<20
	if hotBudget > math.MaxInt64-extra {
		return math.MaxInt64
	}
	return hotBudget + extra
}

// memoryLimit is what a Manager set, to undo at Close.
type memoryLimit struct {
	set   bool  // this Manager set the limit
	limit int64 // the limit it set
	heap  int64 // the heap in use when it set it
}

// applyMemoryLimit sets the process's soft memory limit for the hot
// budget, unless a limit is in force already (GOMEMLIMIT in the
// environment, SetMemoryLimit, another Manager): a limit someone chose is
// never replaced.
func applyMemoryLimit(hotBudget int64) memoryLimit {
	heap := heapInUse()
	want := memoryLimitFor(hotBudget, heap)
	if debug.SetMemoryLimit(-1) != math.MaxInt64 || want == math.MaxInt64 {
		return memoryLimit{}
	}
	debug.SetMemoryLimit(want)
	return memoryLimit{set: true, limit: want, heap: heap}
}

// retarget moves the limit this Manager set to a new hot budget, if nobody
// changed it since, and returns what is then in force for undo.
func (l memoryLimit) retarget(hotBudget int64) memoryLimit {
	if !l.set || debug.SetMemoryLimit(-1) != l.limit {
		return l
	}
	want := memoryLimitFor(hotBudget, l.heap)
	debug.SetMemoryLimit(want)
	l.limit = want
	return l
}

// undo lifts the limit this Manager set, if nobody changed it since.
func (l memoryLimit) undo() {
	if l.set && debug.SetMemoryLimit(-1) == l.limit {
		debug.SetMemoryLimit(math.MaxInt64)
	}
}

// heapInUse returns the bytes of the heap's objects, live or not yet
// swept, without stopping the world.
func heapInUse() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}
