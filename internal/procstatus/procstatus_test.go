package procstatus_test

import (
	"errors"
	"runtime"
	"testing"

	"github.com/tiermem/tiermem/internal/procstatus"
)

// TestBytes reads figures that every Linux process has, in the order
// asked, and names a field that is not there.
func TestBytes(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/self/status is Linux's")
	}
	v, err := procstatus.Bytes("VmRSS", "VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	if v[0] <= 0 || v[1] < v[0] {
		t.Errorf("VmRSS %d, VmHWM %d: want 0 < VmRSS <= VmHWM", v[0], v[1])
	}
	if _, err := procstatus.Bytes("VmRSS", "NoSuchField"); !errors.Is(err, procstatus.ErrNoField) {
		t.Errorf("a missing field: %v, want ErrNoField", err)
	}
}
