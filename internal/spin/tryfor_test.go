package spin_test

import (
	"testing"
	"time"

	"github.com/tiermem/tiermem/internal/spin"
)

func TestTryFor(t *testing.T) {
	calls := 0
	if !spin.TryFor(time.Second, func() bool { calls++; return calls == 3 }) || calls != 3 {
		t.Errorf("TryFor of a try that succeeds on its third call: %d calls", calls)
	}
	start := time.Now()
	if spin.TryFor(20*time.Millisecond, func() bool { return false }) {
		t.Error("TryFor of a try that never succeeds reported true")
	}
	if took := time.Since(start); took < 20*time.Millisecond {
		t.Errorf("TryFor gave up after %v, before its 20 ms", took)
	}
}
