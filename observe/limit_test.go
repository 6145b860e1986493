package observe_test

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/tiermem/tiermem/observe"
)

func TestMemoryLimitFor(t *testing.T) {
	for budget, want := range map[int64]int64{
		0:                       math.MaxInt64,
		-1:                      math.MaxInt64,
		8 << 30:                 8<<30 + 2<<30 + 64<<20,
		math.MaxInt64:           math.MaxInt64,
		math.MaxInt64 - 100<<20: math.MaxInt64,
	} {
		if got := observe.MemoryLimitFor(budget); got != want {
			t.Errorf("MemoryLimitFor(%d) = %d, want %d", budget, got, want)
		}
	}
}

func TestApplyMemoryLimitKeepsAChosenLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(prev)

	limit, set := observe.ApplyMemoryLimit(1 << 30)
	if !set || limit != observe.MemoryLimitFor(1<<30) || debug.SetMemoryLimit(-1) != limit {
		t.Fatalf("no limit in force: ApplyMemoryLimit = %d, %v; want it set", limit, set)
	}
	debug.SetMemoryLimit(3 << 30) // someone's choice
	if limit, set := observe.ApplyMemoryLimit(1 << 30); set || limit != 3<<30 || debug.SetMemoryLimit(-1) != 3<<30 {
		t.Fatalf("a chosen limit was replaced: %d, %v", limit, set)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	if _, set := observe.ApplyMemoryLimit(0); set || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Fatal("a zero budget set a limit")
	}
}
