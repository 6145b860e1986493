package memory

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// mapAnon maps size bytes of zeroed private memory outside the Go heap;
// with reserve, the system does not commit RAM (or swap) for it up front.
func mapAnon(size int64, reserve bool) ([]byte, error) {
	flags := unix.MAP_PRIVATE | unix.MAP_ANON
	if reserve {
		flags |= unix.MAP_NORESERVE
	}
	b, err := unix.Mmap(-1, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, flags)
	if err != nil {
		return nil, fmt.Errorf("memory: mapping %d bytes of anonymous memory: %w", size, err)
	}
	return b, nil
}

// discard releases the pages of b (madvise DONTNEED): on Linux, private
// anonymous pages read as zero afterwards and shared file pages are read
// again from the file.
func discard(b []byte, _ blockKind) error {
	if err := unix.Madvise(b, unix.MADV_DONTNEED); err != nil {
		return fmt.Errorf("memory: madvise DONTNEED: %w", err)
	}
	return nil
}

// populate faults in b's pages for writing (madvise POPULATE_WRITE); a
// kernel older than 5.14 does not know the advice, and nothing happens.
func populate(b []byte) error {
	switch err := unix.Madvise(b, unix.MADV_POPULATE_WRITE); {
	case err == unix.EFAULT: // a file mapping's pages past the file's end (cut since it was mapped)
		return fmt.Errorf("%w: madvise POPULATE_WRITE: the file behind the mapping is shorter than it (truncated since it was mapped?)", ErrFault)
	case err != nil && err != unix.EINVAL:
		return fmt.Errorf("memory: madvise POPULATE_WRITE: %w", err)
	}
	return nil
}

// adviseHuge asks for transparent huge pages over b.
func adviseHuge(b []byte) error {
	if err := unix.Madvise(b, unix.MADV_HUGEPAGE); err != nil && err != unix.EINVAL {
		return fmt.Errorf("memory: madvise HUGEPAGE: %w", err)
	}
	return nil
}

// openNonblock opens a FIFO without waiting for a writer, so that Map can
// refuse it; a regular file ignores it.
const openNonblock = unix.O_NONBLOCK

// extendFile makes f, which holds end bytes, hold size bytes, with their
// disk blocks allocated (fallocate): a full file system is an error here,
// not a SIGBUS at the first write through the mapping. A file system
// without fallocate gets a sparse extension, as Truncate makes.
func extendFile(f *os.File, end, size int64) error {
	err := unix.Fallocate(int(f.Fd()), 0, end, size-end)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		return f.Truncate(size)
	}
	return err
}
