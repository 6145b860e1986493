//go:build darwin || freebsd

package machine

import "golang.org/x/sys/unix"

// AvailableRAM returns 4 GiB: macOS and FreeBSD have no /proc/meminfo, and
// no single figure for memory available without swapping.
func AvailableRAM() int64 { return 4 << 30 }

// FreeDisk returns the bytes free for unprivileged use under dir, or 16 GiB
// where it cannot tell. Bavail counts blocks of Bsize bytes on both systems;
// on FreeBSD it is signed and goes below zero when root has used up the
// reserve, which means nothing is free.
func FreeDisk(dir string) int64 {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 16 << 30
	}
	return max(0, int64(st.Bavail)*int64(st.Bsize))
}

// RSS reports ok false: this system has no /proc to read it from.
func RSS() (now, peak int64, ok bool) { return 0, 0, false }
