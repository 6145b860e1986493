package machine

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// CgroupMemory is what the memory controller of the process's cgroups
// allows it, as ReadCgroupMemory finds it. Cgroups are Linux's; elsewhere
// the files are absent and both figures are 0.
type CgroupMemory struct {
	// Limit is the lowest memory limit of the process's cgroups and of their
	// ancestors up to where the hierarchy is mounted, in bytes; 0 where none
	// is set or none can be read.
	Limit int64
	// Free is the least, over those cgroups with a limit, of the limit less
	// the cgroup's usage, in bytes, and never below 0: what the process can
	// still take before the kernel reclaims or kills. The usage leaves out
	// the cgroup's inactive file pages, which the kernel drops first, as
	// MemAvailable does. It means nothing where Limit is 0.
	Free int64
}

// cgroupFiles names the files of one version of the memory controller.
type cgroupFiles struct {
	limit    string // the limit in bytes; "max" or near 2^63 for none
	usage    string // the bytes used by the cgroup and its descendants
	inactive string // the key in memory.stat of the inactive file pages below the cgroup
}

var (
	cgroupV2 = cgroupFiles{"memory.max", "memory.current", "inactive_file"}
	cgroupV1 = cgroupFiles{"memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"}
)

// ReadCgroupMemory returns the memory limit of the cgroups the process is
// in and what is left under it. It reads proc/self/cgroup and
// proc/self/mountinfo under root ("/" but in tests), then memory.max and
// memory.current (cgroup v2) or memory.limit_in_bytes and
// memory.usage_in_bytes (v1), with memory.stat, in the process's cgroup
// and in each of its ancestors up to the mount point.
func ReadCgroupMemory(root string) CgroupMemory {
	groups, err := os.ReadFile(filepath.Join(root, "proc/self/cgroup"))
	if err != nil {
		return CgroupMemory{}
	}
	mounts, err := os.ReadFile(filepath.Join(root, "proc/self/mountinfo"))
	if err != nil {
		return CgroupMemory{}
	}
	var m CgroupMemory
	for line := range bytes.Lines(groups) {
		// "ID:CONTROLLERS:PATH"; v2's line is "0::PATH".
		f := strings.SplitN(strings.TrimSpace(string(line)), ":", 3)
		if len(f) != 3 {
			continue
		}
		v2 := f[0] == "0" && f[1] == ""
		if !v2 && !slices.Contains(strings.Split(f[1], ","), "memory") {
			continue
		}
		mountRoot, mountPoint, ok := cgroupMount(mounts, v2)
		if !ok {
			continue
		}
		files := cgroupV1
		if v2 {
			files = cgroupV2
		}
		m = m.lower(readUpward(filepath.Join(root, mountPoint), cgroupDir(f[2], mountRoot), files))
	}
	return m
}

// lower returns the tighter of m and o in each figure, where they have a limit.
func (m CgroupMemory) lower(o CgroupMemory) CgroupMemory {
	switch {
	case o.Limit == 0:
		return m
	case m.Limit == 0:
		return o
	}
	return CgroupMemory{Limit: min(m.Limit, o.Limit), Free: min(m.Free, o.Free)}
}

// cgroupMount returns the root and mount point of the cgroup v2 hierarchy,
// or of the v1 hierarchy of the memory controller, from mountinfo: lines
// "ID PARENT DEV ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS".
func cgroupMount(mountinfo []byte, v2 bool) (root, point string, ok bool) {
	for line := range bytes.Lines(mountinfo) {
		f := strings.Fields(string(line))
		sep := slices.Index(f, "-")
		if sep < 5 || sep+1 >= len(f) {
			continue
		}
		fstype := f[sep+1]
		switch {
		case v2 && fstype == "cgroup2":
		case !v2 && fstype == "cgroup" && sep+3 < len(f) && slices.Contains(strings.Split(f[sep+3], ","), "memory"):
		default:
			continue
		}
		return unescapeMount(f[3]), unescapeMount(f[4]), true
	}
	return "", "", false
}

// unescapeMount undoes mountinfo's octal escapes of space, tab, newline
// and backslash.
func unescapeMount(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}

// cgroupDir returns the process's cgroup as a path below the mount point:
// its path in the hierarchy less the part of the hierarchy mounted there
// (all of it in a container with its own cgroup namespace, "/").
func cgroupDir(path, mountRoot string) string {
	if mountRoot == "/" {
		return filepath.Clean("/" + path)
	}
	rel, ok := strings.CutPrefix(path, mountRoot)
	if !ok || rel != "" && rel[0] != '/' {
		return "/" // not under what is mounted: only the mount point's own limit is known
	}
	return filepath.Clean("/" + rel)
}

// readUpward returns the tightest limit and headroom of the cgroup dir
// below mount and of each of its ancestors up to mount.
func readUpward(mount, dir string, files cgroupFiles) CgroupMemory {
	var m CgroupMemory
	for {
		m = m.lower(readLevel(filepath.Join(mount, dir), files))
		if dir == "/" {
			return m
		}
		dir = filepath.Dir(dir)
	}
}

// readLevel returns the limit of the one cgroup dir and what is left under
// it. A usage it cannot read counts as none.
func readLevel(dir string, files cgroupFiles) CgroupMemory {
	b, err := os.ReadFile(filepath.Join(dir, files.limit))
	if err != nil {
		return CgroupMemory{}
	}
	limit := parseMemoryLimit(b)
	if limit == 0 {
		return CgroupMemory{}
	}
	used := int64(0)
	if b, err := os.ReadFile(filepath.Join(dir, files.usage)); err == nil {
		used = parseMemoryLimit(b)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "memory.stat")); err == nil {
		used -= min(used, statValue(b, files.inactive))
	}
	return CgroupMemory{Limit: limit, Free: max(0, limit-used)}
}

// parseMemoryLimit reads memory.max or memory.limit_in_bytes (or a usage):
// a number of bytes, or "max" (v2) or a number near 2^63 (v1) for none,
// which it returns as 0, as it does anything it cannot read.
func parseMemoryLimit(b []byte) int64 {
	n, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	if err != nil || n <= 0 || n >= 1<<62 {
		return 0
	}
	return n
}

// statValue returns the value of key in memory.stat, lines "KEY VALUE", or 0.
func statValue(stat []byte, key string) int64 {
	for line := range bytes.Lines(stat) {
		k, v, ok := strings.Cut(strings.TrimSpace(string(line)), " ")
		if ok && k == key {
			return parseMemoryLimit([]byte(v))
		}
	}
	return 0
}
