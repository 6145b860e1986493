//go:build unix

package memory

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

var pageSize = int64(os.Getpagesize())

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

// mapFile maps size bytes of f from the page-aligned offset off, shared so
// that writes reach the file and other processes see the same pages.
func mapFile(f *os.File, off, size int64, writable bool) ([]byte, error) {
	prot := unix.PROT_READ
	if writable {
		prot |= unix.PROT_WRITE
	}
	b, err := unix.Mmap(int(f.Fd()), off, int(size), prot, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("memory: mapping %d bytes of %s at offset %d: %w", size, f.Name(), off, err)
	}
	return b, nil
}

func unmap(b []byte, _ blockKind) error {
	if err := unix.Munmap(b); err != nil {
		return fmt.Errorf("memory: unmapping %d bytes: %w", len(b), err)
	}
	return nil
}

// adviseWillNeed asks the kernel to read ahead the pages of b.
func adviseWillNeed(b []byte) error {
	if err := unix.Madvise(b, unix.MADV_WILLNEED); err != nil {
		return fmt.Errorf("memory: madvise WILLNEED: %w", err)
	}
	return nil
}

// syncMapping writes the dirty pages of b back to their file and waits.
func syncMapping(b []byte) error {
	if err := unix.Msync(b, unix.MS_SYNC); err != nil {
		return fmt.Errorf("memory: msync: %w", err)
	}
	return nil
}

// discard releases the pages of b (madvise DONTNEED).
func discard(b []byte) error {
	if err := unix.Madvise(b, unix.MADV_DONTNEED); err != nil {
		return fmt.Errorf("memory: madvise DONTNEED: %w", err)
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
