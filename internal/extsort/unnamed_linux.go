package extsort

import (
	"os"

	"golang.org/x/sys/unix"
)

// openUnnamed opens a new file in dir that has no name at all (O_TMPFILE):
// a process killed while it holds it leaves nothing behind. It fails where
// the file system cannot make one; the caller then creates a named file
// and unlinks it.
func openUnnamed(dir string) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_RDWR|unix.O_TMPFILE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), dir+"/(unnamed run)"), nil
}
