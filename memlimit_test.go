package tiermem_test

import (
	"math"
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
