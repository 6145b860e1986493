package alloc

import (
	"fmt"

	"github.com/tiermem/tiermem/memory"
)

// Regions hands out writable regions of one memory, placed by an Allocator
// whose offset space is the memory (capacity ≤ the memory's size). Regions
// are views of the memory: they stay valid until its owner closes it, and a
// freed region's bytes may be handed out again, so a region must not be used
// after Free. Not safe for concurrent use.
type Regions struct {
	mem memory.WritableMemory
	a   Allocator
}

// NewRegions returns regions of mem placed by a.
func NewRegions(mem memory.WritableMemory, a Allocator) (*Regions, error) {
	if a.Capacity() > mem.Size() {
		return nil, fmt.Errorf("%w: allocator of %d bytes over memory of %d bytes", ErrInvalidSize, a.Capacity(), mem.Size())
	}
	return &Regions{mem: mem, a: a}, nil
}

// Alloc returns a region of exactly size bytes; its contents are whatever
// the memory held there.
func (r *Regions) Alloc(size int64) (memory.WritableMemory, error) {
	return r.AllocAligned(size, MinAlign)
}

// AllocAligned returns a region of size bytes whose offset in the memory is
// a multiple of align.
func (r *Regions) AllocAligned(size, align int64) (memory.WritableMemory, error) {
	if !r.mem.IsValid() {
		return memory.WritableMemory{}, fmt.Errorf("alloc: allocating a region of %d bytes: %w", size, memory.ErrClosed)
	}
	off, err := r.a.AllocAligned(size, align)
	if err != nil {
		return memory.WritableMemory{}, err
	}
	return r.mem.Region(off, size), nil
}

// Free gives back a region that Alloc returned. It returns ErrNotAllocated
// for a view of another memory or one that Alloc did not return.
func (r *Regions) Free(region memory.WritableMemory) error {
	if !region.SameBacking(r.mem.ReadOnly()) {
		return fmt.Errorf("%w: region of another memory", ErrNotAllocated)
	}
	return r.a.Free(region.Offset()-r.mem.Offset(), region.Size())
}

// Reset frees every region at once.
func (r *Regions) Reset() { r.a.Reset() }

// Stats returns the allocator's counters.
func (r *Regions) Stats() Stats { return r.a.Stats() }
