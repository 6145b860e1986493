package machine_test

import (
	"maps"
	"testing"

	"github.com/tiermem/tiermem/internal/machine"
)

// TestAvailableRAMWithinCgroup: in a container limited below the host's
// available memory, AvailableRAM is what is left under the limit, not the
// host's MemAvailable, which would size the Manager's tiers to the host and
// get the process killed; it never falls to 0, which a budget reads as none.
func TestAvailableRAMWithinCgroup(t *testing.T) {
	const meminfo = "MemTotal:       67108864 kB\nMemFree:        1048576 kB\nMemAvailable:   50331648 kB\n"
	for _, c := range cgroupTrees {
		files := maps.Clone(c.files)
		files["proc/meminfo"] = meminfo
		want := int64(48 << 30) // the host's MemAvailable
		if c.want.Limit > 0 {
			want = max(min(want, c.want.Free), machine.MinAvailableRAM)
		}
		if got := machine.AvailableRAMUnder(fakeRoot(t, files)); got != want {
			t.Errorf("%s: AvailableRAM = %d, want %d", c.name, got, want)
		}
	}
	if got := machine.AvailableRAMUnder(t.TempDir()); got != 4<<30 {
		t.Errorf("AvailableRAM with no /proc = %d, want the stated 4 GiB", got)
	}
}
