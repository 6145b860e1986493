//go:build linux || darwin || freebsd

package memory

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// The calls in this file behave alike on every system memory supports; what
// differs (reserving address space, discarding pages, huge pages) lives in
// mmap_linux.go and mmap_bsd.go.

var pageSize = int64(os.Getpagesize())

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
