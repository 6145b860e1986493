//go:build darwin || freebsd

package tiermem

import "golang.org/x/sys/unix"

// availableRAM returns 4 GiB: macOS and FreeBSD have no /proc/meminfo, and
// no single figure for memory available without swapping.
func availableRAM() int64 { return 4 << 30 }

// freeDisk returns the bytes free for unprivileged use under dir, or 16 GiB
// where it cannot tell. Bavail counts blocks of Bsize bytes on both systems;
// on FreeBSD it is signed and goes below zero when root has used up the
// reserve, which means nothing is free.
func freeDisk(dir string) int64 {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 16 << 30
	}
	return max(0, int64(st.Bavail)*int64(st.Bsize))
}
