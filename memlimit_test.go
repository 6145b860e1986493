package tiermem_test

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/tiermem/tiermem"
)

// TestOpenSetsTheMemoryLimitFromTheHotBudget: Open sets the GC's soft
// memory limit above the hot budget when none is in force, Close lifts
// it; KeepMemoryLimit leaves it alone; a limit in force is never replaced.
func TestOpenSetsTheMemoryLimitFromTheHotBudget(t *testing.T) {
	if debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Skip("a memory limit is in force (GOMEMLIMIT)")
	}
	const hot = 256 << 20
	o := &tiermem.Options{Hot: tiermem.TierOptions{Size: hot}, MigrateInterval: -1}
	m, err := tiermem.Open(t.TempDir(), o)
	must(t, err)
	limit := debug.SetMemoryLimit(-1)
	if limit < hot+hot/4+64<<20 || limit == math.MaxInt64 {
		t.Errorf("limit %d MiB for a hot budget of %d MiB", limit>>20, hot>>20)
	}
	must(t, m.Close())
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("after Close the limit is %d", got)
	}

	o.KeepMemoryLimit = true
	m, err = tiermem.Open(t.TempDir(), o)
	must(t, err)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("KeepMemoryLimit: the limit is %d", got)
	}
	must(t, m.Close())

	debug.SetMemoryLimit(8 << 30)
	defer debug.SetMemoryLimit(math.MaxInt64)
	o.KeepMemoryLimit = false
	m, err = tiermem.Open(t.TempDir(), o)
	must(t, err)
	if got := debug.SetMemoryLimit(-1); got != 8<<30 {
		t.Errorf("a limit in force was replaced by %d", got)
	}
	must(t, m.Close())
	if got := debug.SetMemoryLimit(-1); got != 8<<30 {
		t.Errorf("Close changed a limit it did not set: %d", got)
	}
}

// TestMemoryLimitFollowsTheRestOfTheHeap: the limit Open set grows with the
// live heap that is not the hot tier's (a cold index, the application's
// own data) at the next migration pass, so that the collector does not run
// back to back once that heap outgrows the hot budget, and comes down when
// that heap is freed; a limit someone else set meanwhile is left alone.
func TestMemoryLimitFollowsTheRestOfTheHeap(t *testing.T) {
	if debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Skip("a memory limit is in force (GOMEMLIMIT)")
	}
	const hot, rest = 64 << 20, 256 << 20
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{Hot: tiermem.TierOptions{Size: hot}, MigrateInterval: -1})
	must(t, err)
	defer m.Close()
	before := debug.SetMemoryLimit(-1)
	ballast := make([]byte, rest)
	runtime.GC()
	must(t, m.Migrate())
	grown := debug.SetMemoryLimit(-1)
	if grown < before+rest+rest/2 {
		t.Errorf("with %d MiB more live heap the limit went from %d to %d MiB, want at least %d more", rest>>20, before>>20, grown>>20, (rest+rest/2)>>20)
	}
	runtime.KeepAlive(ballast)
	ballast = nil
	runtime.GC()
	must(t, m.Migrate())
	if after := debug.SetMemoryLimit(-1); after > grown-rest {
		t.Errorf("once the %d MiB were freed the limit is %d MiB, want it back under %d", rest>>20, after>>20, (grown-rest)>>20)
	}
	debug.SetMemoryLimit(8 << 30)
	must(t, m.Migrate())
	if got := debug.SetMemoryLimit(-1); got != 8<<30 {
		t.Errorf("a limit set after Open was replaced by %d MiB", got>>20)
	}
	must(t, m.Close())
	if got := debug.SetMemoryLimit(-1); got != 8<<30 {
		t.Errorf("Close changed a limit it did not set: %d MiB", got>>20)
	}
	debug.SetMemoryLimit(math.MaxInt64)
}
