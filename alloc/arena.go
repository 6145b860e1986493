package alloc

import (
	"fmt"
	"unsafe"
)

// Arena is a bump allocator: each allocation takes the next bytes of the
// space, so allocation is a few instructions and nothing it handed out ever
// moves. It frees everything at once with Reset; Free undoes only the most
// recent allocation, which lets a caller take back a step it did not need.
//
// An Arena is not safe for concurrent use.
type Arena struct {
	capacity int64
	top      int64 // first byte not handed out
	last     struct {
		off, size, prevTop int64
		ok                 bool // the most recent allocation can be undone
	}
	counters
}

// NewArena returns an arena over an offset space of capacity bytes.
func NewArena(capacity int64) (*Arena, error) {
	if capacity <= 0 {
		return nil, fmt.Errorf("%w: arena of %d bytes", ErrInvalidSize, capacity)
	}
	return &Arena{capacity: capacity}, nil
}

// Capacity returns the size of the offset space.
func (a *Arena) Capacity() int64 { return a.capacity }

// Alloc takes the next size bytes, 16-byte aligned.
func (a *Arena) Alloc(size int64) (int64, error) { return a.AllocAligned(size, MinAlign) }

// AllocAligned takes the next size bytes at a multiple of align; the bytes
// skipped to align stay unused until Reset.
func (a *Arena) AllocAligned(size, align int64) (int64, error) {
	if err := checkRequest(size, align); err != nil {
		return 0, a.refuse(err, size, align)
	}
	align = max(align, MinAlign)
	start := (a.top + align - 1) &^ (align - 1)
	if start < 0 || start > a.capacity-size {
		if size > a.capacity {
			return 0, a.refuse(ErrTooLarge, size, align)
		}
		return 0, a.refuse(ErrNoSpace, size, align)
	}
	a.allocated(size, start+size-a.top)
	a.last.off, a.last.size, a.last.prevTop, a.last.ok = start, size, a.top, true
	a.top = start + size
	return start, nil
}

// Free undoes the most recent allocation, once: the size bytes at off that
// the last Alloc returned go back, with the alignment padding before them.
// Any other free returns ErrArenaFree: the rest is freed by Reset.
func (a *Arena) Free(off, size int64) error {
	if !a.last.ok || off != a.last.off || size != a.last.size {
		return fmt.Errorf("%w (%d bytes at offset %d)", ErrArenaFree, size, off)
	}
	a.freed(size, a.top-a.last.prevTop)
	a.top = a.last.prevTop
	a.last.ok = false
	return nil
}

// Reset frees every allocation: the next one starts at offset 0 again.
func (a *Arena) Reset() {
	a.top = 0
	a.last.ok = false
	a.counters.reset()
}

// Used returns the bytes handed out since the last Reset, alignment included.
func (a *Arena) Used() int64 { return a.top }

// Stats returns the arena's counters; its free space is contiguous, so its
// external fragmentation is 0.
func (a *Arena) Stats() Stats {
	free := a.capacity - a.top
	// The next Alloc starts at the next multiple of MinAlign: what it can
	// get whole is what lies after that.
	largest := max(a.capacity-(a.top+MinAlign-1)/MinAlign*MinAlign, 0)
	st := a.counters.stats(a.capacity, int64(unsafe.Sizeof(*a)), free, free, largest)
	st.ReservedBytes = a.top
	if a.top > 0 {
		st.InternalFragmentation = 1 - float64(a.live)/float64(a.top)
	}
	return st
}
