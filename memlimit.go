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
//
// The rest of the heap is not the hot tier's: the cold tier's index (about
// 135 bytes a key), the policies, the application's own data. It grows with
// the keys held, not with the hot budget, so the limit follows it too: every
// migration pass, and every few thousand keys Close writes to disk, the
// limit becomes the hot part as above plus twice the rest of the live heap
// (the headroom GOGC=100 gives it). A limit that ignored the rest kept the
// collector running back to back once the cold index outgrew the hot
// budget: Close of a million warm keys under a 64 MiB hot budget took 10.9 s
// instead of 4.8 s, most of it marking.

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

// restOfHeap returns the allowance for the heap that is not the hot tier's:
// the heap in use at Open, or twice the live heap outside the hot tier's
// hotUsed bytes when that is more.
func restOfHeap(atOpen, live, hotUsed int64) int64 {
	return max(atOpen, 2*(live-hotUsed))
}

// memoryLimit is what a Manager set, to follow the heap and to undo at
// Close.
type memoryLimit struct {
	set    bool  // this Manager set the limit
	limit  int64 // the limit it set
	heap   int64 // the heap in use when it set it
	budget int64 // the hot budget it was set for
	rest   int64 // the allowance for the rest of the heap it was set with
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
	return memoryLimit{set: true, limit: want, heap: heap, budget: hotBudget, rest: heap}
}

// retarget moves the limit this Manager set to a new hot budget, if nobody
// changed it since, and returns what is then in force for undo.
func (l memoryLimit) retarget(hotBudget int64) memoryLimit {
	if !l.set || debug.SetMemoryLimit(-1) != l.limit {
		return l
	}
	want := memoryLimitFor(hotBudget, l.rest)
	debug.SetMemoryLimit(want)
	l.limit, l.budget = want, hotBudget
	return l
}

// follow moves the limit this Manager set to the live heap outside the hot
// tier, which holds hotUsed bytes (restOfHeap), if nobody changed it since,
// and returns what is then in force for undo. It reads the live heap the
// last collection marked, without stopping the world.
func (l memoryLimit) follow(hotUsed int64) memoryLimit {
	if !l.set || debug.SetMemoryLimit(-1) != l.limit {
		return l
	}
	rest := restOfHeap(l.heap, liveHeap(), hotUsed)
	want := memoryLimitFor(l.budget, rest)
	if want == l.limit {
		return l
	}
	debug.SetMemoryLimit(want)
	l.limit, l.rest = want, rest
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
func heapInUse() int64 { return readMetric("/memory/classes/heap/objects:bytes") }

// liveHeap returns the bytes of heap objects the last collection marked
// live (zero before the first).
func liveHeap() int64 { return readMetric("/gc/heap/live:bytes") }

func readMetric(name string) int64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}
