package machine_test

import (
	"runtime"
	"testing"

	"github.com/tiermem/tiermem/internal/machine"
)

func TestProbesAnswerSomething(t *testing.T) {
	if ram := machine.AvailableRAM(); ram <= 0 {
		t.Errorf("AvailableRAM = %d, want a positive figure", ram)
	}
	if free := machine.FreeDisk(t.TempDir()); free < 0 {
		t.Errorf("FreeDisk = %d, want 0 or more", free)
	}
	if free := machine.FreeDisk("/no/such/dir"); free <= 0 {
		t.Errorf("FreeDisk of a missing directory = %d, want the stated default", free)
	}
}

// TestRSSFollowsWhatIsTouched touches 64 MiB and checks that the resident
// memory and its peak grew by about that much.
func TestRSSFollowsWhatIsTouched(t *testing.T) {
	before, _, ok := machine.RSS()
	if !ok {
		if runtime.GOOS == "linux" {
			t.Fatal("RSS cannot tell on Linux")
		}
		t.Skip("no /proc on this system")
	}
	b := make([]byte, 64<<20)
	for i := range b {
		if i%4096 == 0 {
			b[i] = 1
		}
	}
	now, peak, _ := machine.RSS()
	if now-before < 48<<20 || peak < now {
		t.Errorf("RSS %d MiB before, %d after touching 64 MiB (peak %d)", before>>20, now>>20, peak>>20)
	}
	runtime.KeepAlive(b)
}
