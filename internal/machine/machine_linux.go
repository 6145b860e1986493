package machine

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// AvailableRAM returns the bytes of memory the process can take without
// swapping: the system's MemAvailable, or what is left under the memory
// limit of its cgroup (a container's) where that is less (see
// CgroupMemory). It is 4 GiB where the system cannot tell, and at least
// minAvailableRAM, so that the budgets sized from it are never 0.
func AvailableRAM() int64 { return availableRAM("/") }

// minAvailableRAM is the least AvailableRAM returns: a cgroup at its limit
// leaves 0, which a budget would read as none.
const minAvailableRAM = 16 << 20

// availableRAM is AvailableRAM reading proc and the cgroup files under root.
func availableRAM(root string) int64 {
	ram := int64(4 << 30)
	if b, err := os.ReadFile(filepath.Join(root, "proc/meminfo")); err == nil {
		if kb, ok := statusField(b, "MemAvailable"); ok {
			ram = kb << 10
		}
	}
	if cg := ReadCgroupMemory(root); cg.Limit > 0 {
		ram = min(ram, cg.Free)
	}
	return max(ram, minAvailableRAM)
}

// FreeDisk returns the bytes free for unprivileged use under dir, or 16 GiB
// where it cannot tell.
func FreeDisk(dir string) int64 {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 16 << 30
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

// RSS returns this process's resident memory and the most it has had
// (VmRSS and VmHWM), in bytes, or ok false if /proc cannot tell.
func RSS() (now, peak int64, ok bool) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0, false
	}
	now, ok1 := statusField(status, "VmRSS")
	peak, ok2 := statusField(status, "VmHWM")
	return now << 10, peak << 10, ok1 && ok2
}

// statusField returns the number of the line "NAME: N kB" of a /proc file
// (meminfo, status), split by whole lines however long: a "Groups:" line
// of thousands of groups passes any fixed buffer.
func statusField(file []byte, name string) (int64, bool) {
	for line := range bytes.Lines(file) {
		key, rest, ok := bytes.Cut(line, []byte(":"))
		if !ok || string(key) != name {
			continue
		}
		fields := bytes.Fields(rest)
		if len(fields) == 0 {
			return 0, false
		}
		n, err := strconv.ParseInt(string(fields[0]), 10, 64)
		return n, err == nil
	}
	return 0, false
}
