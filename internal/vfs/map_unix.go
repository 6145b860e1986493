//go:build unix

package vfs

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Map maps the first length bytes of f read-only and shared, so that the
// mapping sees what is written to the file later, through any descriptor.
// length may run past the file's end: those pages become readable as the
// file grows, and touching one that is still past the end raises SIGBUS
// (see [AppendMapped]). Only files of [Default] can be mapped; for any other
// File (a [Fault] wrapper, say) Map returns [ErrNotMappable], and the
// caller reads with ReadAt instead. Release the mapping with [Unmap].
func Map(f File, length int64) ([]byte, error) {
	of, ok := f.(osFile)
	if !ok {
		return nil, ErrNotMappable
	}
	if length <= 0 || int64(int(length)) != length {
		return nil, fmt.Errorf("vfs: mapping %d bytes of %s: bad length", length, of.Name())
	}
	b, err := unix.Mmap(int(of.Fd()), 0, int(length), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, &os.PathError{Op: "mmap", Path: of.Name(), Err: err}
	}
	return b, nil
}

// Unmap releases a mapping made by [Map]; b must not be used afterwards.
func Unmap(b []byte) error {
	if err := unix.Munmap(b); err != nil {
		return &os.PathError{Op: "munmap", Path: "mapping", Err: err}
	}
	return nil
}

// Release drops the pages of a mapping made by [Map] from the process
// (madvise DONTNEED): the file's bytes stay in the page cache and on disk,
// and a read of b faults them in again. b stays valid.
func Release(b []byte) error {
	if err := unix.Madvise(b, unix.MADV_DONTNEED); err != nil {
		return &os.PathError{Op: "madvise", Path: "mapping", Err: err}
	}
	return nil
}
