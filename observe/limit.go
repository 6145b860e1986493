package observe

import (
	"math"
	"runtime/debug"
)

// Headroom of the memory limit that MemoryLimitFor derives from a hot tier's
// budget: the budget itself, a quarter more for the garbage collector to work
// in (a heap goal of 1.25× live instead of GOGC=100's 2×), and a fixed
// allowance for everything else on the Go heap and in the runtime (stacks,
// the Manager's index, buffers).
const (
	limitHeadroomDen = 4        // budget/4 of GC headroom
	limitBaseBytes   = 64 << 20 // 64 MiB for the rest of the process
)

// MemoryLimitFor returns the soft memory limit (runtime/debug.SetMemoryLimit,
// GOMEMLIMIT) that suits a process whose hot tier may hold hotBudget bytes
// of live Go memory: hotBudget + hotBudget/4 + 64 MiB. With it the garbage
// collector lets the heap grow while the hot tier is small and collects
// harder, instead of letting the heap double, as the tier fills. It returns
// math.MaxInt64 (no limit) for a budget of zero or less, and never
// overflows. It reads nothing and sets nothing; safe for concurrent use.
func MemoryLimitFor(hotBudget int64) int64 {
	if hotBudget <= 0 {
		return math.MaxInt64
	}
	headroom := hotBudget / limitHeadroomDen
	if hotBudget > math.MaxInt64-headroom-limitBaseBytes {
		return math.MaxInt64
	}
	return hotBudget + headroom + limitBaseBytes
}

// ApplyMemoryLimit sets the process's soft memory limit to
// MemoryLimitFor(hotBudget), unless a limit is already in force (GOMEMLIMIT
// in the environment, or an earlier SetMemoryLimit): a limit someone chose
// is never raised or replaced. It returns the limit in force afterwards and
// whether it set it; a caller that set it and wants to undo it restores
// math.MaxInt64 with debug.SetMemoryLimit. Safe for concurrent use, but two
// callers racing may both see no limit and the later one wins.
func ApplyMemoryLimit(hotBudget int64) (limit int64, set bool) {
	current := debug.SetMemoryLimit(-1)
	want := MemoryLimitFor(hotBudget)
	if current != math.MaxInt64 || want == math.MaxInt64 {
		return current, false
	}
	debug.SetMemoryLimit(want)
	return want, true
}
