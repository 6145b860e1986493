//go:build darwin || freebsd

package memory

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapAnon maps size bytes of zeroed private memory outside the Go heap.
// macOS and FreeBSD have no MAP_NORESERVE (macOS defines the flag and
// ignores it): both overcommit anonymous memory by default, committing pages
// only as they are touched, so reserve maps the same way as an allocation.
func mapAnon(size int64, _ bool) ([]byte, error) {
	b, err := unix.Mmap(-1, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil, fmt.Errorf("memory: mapping %d bytes of anonymous memory: %w", size, err)
	}
	return b, nil
}

// discard releases the pages of b. Here madvise DONTNEED is only a hint that
// may leave anonymous pages, and their contents, in place, so anonymous
// memory is replaced with fresh zero pages by mapping over it (MAP_FIXED),
// which frees the old pages at once; views stay valid because the addresses
// do not change. Pages of a shared file mapping hold what the file holds
// either way, so for them the hint is enough.
func discard(b []byte, kind blockKind) error {
	if kind != offHeapBlock {
		if err := unix.Madvise(b, unix.MADV_DONTNEED); err != nil {
			return fmt.Errorf("memory: madvise DONTNEED: %w", err)
		}
		return nil
	}
	_, err := unix.MmapPtr(-1, 0, unsafe.Pointer(unsafe.SliceData(b)), uintptr(len(b)),
		unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_FIXED)
	if err != nil {
		return fmt.Errorf("memory: discarding %d bytes (mmap MAP_FIXED): %w", len(b), err)
	}
	return nil
}

// adviseHuge does nothing and returns nil: macOS has no huge-page advice for
// ordinary mappings, and FreeBSD promotes large anonymous mappings to
// superpages on its own, without being asked.
func adviseHuge([]byte) error { return nil }

func populate([]byte) error { return nil } // no such advice: pages fault in as written

// openNonblock opens a FIFO without waiting for a writer, so that Map can
// refuse it; a regular file ignores it.
const openNonblock = unix.O_NONBLOCK

// extendFile makes f hold size bytes, sparse: on these systems a full file
// system shows at the first write through the mapping (SIGBUS).
func extendFile(f *os.File, _, size int64) error { return f.Truncate(size) }
