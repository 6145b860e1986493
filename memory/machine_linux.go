package memory

import (
	"math"

	"golang.org/x/sys/unix"
)

// machineMemory returns the bytes of RAM and swap of the machine, the most
// that Linux lets one allocation commit (its default, heuristic overcommit
// refuses a larger one), or 0 where it cannot tell.
func machineMemory() int64 {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return 0
	}
	total := (uint64(si.Totalram) + uint64(si.Totalswap)) * uint64(max(si.Unit, 1))
	return int64(min(total, math.MaxInt64))
}
