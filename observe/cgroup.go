package observe

import (
	"os"

	"github.com/tiermem/tiermem/internal/machine"
)

// physicalMemory returns the memory the process may use, in bytes: the
// machine's (MemTotal of /proc/meminfo), or its cgroup's memory limit where
// that is lower (a container's), or 0 where neither can be read.
func physicalMemory() int64 {
	ram := int64(0)
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		ram = parseMemTotal(b)
	}
	if limit := cgroupMemoryLimit("/"); limit > 0 && (ram <= 0 || limit < ram) {
		return limit
	}
	return ram
}

// cgroupMemoryLimit returns the lowest memory limit of the cgroups the
// process is in and of their ancestors, reading the files under root ("/"
// but in tests), or 0 where none is set or none can be read.
func cgroupMemoryLimit(root string) int64 { return machine.ReadCgroupMemory(root).Limit }
