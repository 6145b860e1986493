package observe

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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
// process is in, and of their ancestors up to where the hierarchy is
// mounted, or 0 where none is set or none can be read. It reads
// proc/self/cgroup and proc/self/mountinfo under root ("/" but in tests),
// then memory.max (cgroup v2) or memory.limit_in_bytes (v1).
func cgroupMemoryLimit(root string) int64 {
	groups, err := os.ReadFile(filepath.Join(root, "proc/self/cgroup"))
	if err != nil {
		return 0
	}
	mounts, err := os.ReadFile(filepath.Join(root, "proc/self/mountinfo"))
	if err != nil {
		return 0
	}
	lowest := int64(0)
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
		file := "memory.limit_in_bytes"
		if v2 {
			file = "memory.max"
		}
		limit := limitUpward(filepath.Join(root, mountPoint), cgroupDir(f[2], mountRoot), file)
		if limit > 0 && (lowest == 0 || limit < lowest) {
			lowest = limit
		}
	}
	return lowest
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

// limitUpward returns the lowest limit in file in the cgroup dir below
// mount and in each of its ancestors up to mount, or 0 where none is set.
func limitUpward(mount, dir, file string) int64 {
	lowest := int64(0)
	for {
		if b, err := os.ReadFile(filepath.Join(mount, dir, file)); err == nil {
			if limit := parseMemoryLimit(b); limit > 0 && (lowest == 0 || limit < lowest) {
				lowest = limit
			}
		}
		if dir == "/" {
			return lowest
		}
		dir = filepath.Dir(dir)
	}
}

// parseMemoryLimit reads memory.max or memory.limit_in_bytes: a number of
// bytes, or "max" (v2) or a number near 2^63 (v1) for none, which it
// returns as 0.
func parseMemoryLimit(b []byte) int64 {
	n, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	if err != nil || n <= 0 || n >= 1<<62 {
		return 0
	}
	return n
}
