package alloc

import (
	"fmt"
	"sync"
)

// Allocator hands out ranges of an offset space [0, Capacity()). Offsets are
// what Alloc returns; nothing is read or written in the space itself.
// Implementations are not safe for concurrent use unless they say so.
type Allocator interface {
	// Alloc reserves size bytes and returns the offset of the first, aligned
	// to at least MinAlign. It returns ErrNoSpace when full and ErrTooLarge
	// for a size the allocator can never hold.
	Alloc(size int64) (int64, error)

	// AllocAligned is Alloc with the offset a multiple of align, a power of two.
	AllocAligned(size, align int64) (int64, error)

	// Free releases the size bytes at off, which Alloc or AllocAligned
	// returned for that size. It returns ErrDoubleFree, or ErrNotAllocated
	// for an offset never returned or a size its block or slot cannot
	// hold, leaving the allocator unchanged. A wrong size that the same
	// block holds is not detected (Slab and Buddy keep no sizes, only
	// blocks): the allocation is freed, and the live-bytes statistics
	// drift by the difference.
	Free(off, size int64) error

	// Reset frees every allocation at once.
	Reset()

	// Capacity returns the size of the offset space.
	Capacity() int64

	// Stats returns counters and fragmentation figures as of now.
	Stats() Stats
}

// MinAlign is the alignment of every offset that Alloc returns.
const MinAlign = 16

// Stats is a snapshot of an allocator's counters.
type Stats struct {
	Capacity       int64 // bytes in the offset space
	LiveBytes      int64 // bytes requested by the allocations not yet freed
	ReservedBytes  int64 // bytes those allocations occupy (size classes, blocks, alignment)
	PeakLiveBytes  int64 // highest LiveBytes since creation
	Allocs         int64 // successful allocations since creation
	Frees          int64 // successful frees since creation (Reset counts the allocations it frees)
	FailedAllocs   int64 // allocations refused (no space, too large, invalid)
	MetadataBytes  int64 // bytes of Go memory used for bookkeeping
	FreeBytes      int64 // bytes still available to allocations (less than Capacity minus ReservedBytes where space is lost at span ends or to alignment)
	LargestFree    int64 // the largest allocation that would succeed now
	LiveAllocation int64 // allocations not yet freed

	// InternalFragmentation is the share of reserved bytes not requested:
	// 1 - LiveBytes/ReservedBytes.
	InternalFragmentation float64
	// ExternalFragmentation is the share of free bytes that a request of the
	// allocator's largest size could not use (free space split into
	// pieces): 1 - usable/FreeBytes, where usable counts whole free spans
	// (Slab), free blocks of the largest free order (Buddy) or the
	// contiguous rest (Arena, always 0).
	ExternalFragmentation float64
	// MetadataOverhead is MetadataBytes/Capacity.
	MetadataOverhead float64
}

// counters is the part of Stats that every allocator keeps the same way.
type counters struct {
	live, reserved, peak, allocs, frees, failed int64
}

func (c *counters) allocated(size, reserved int64) {
	c.live += size
	c.reserved += reserved
	if c.live > c.peak {
		c.peak = c.live
	}
	c.allocs++
}

func (c *counters) freed(size, reserved int64) {
	c.live -= size
	c.reserved -= reserved
	c.frees++
}

// count returns the allocations not yet freed.
func (c *counters) count() int64 { return c.allocs - c.frees }

func (c *counters) reset() {
	c.frees = c.allocs
	c.live, c.reserved = 0, 0
}

// stats fills a Stats from the counters and what the allocator measured:
// its metadata, its free bytes, the part of them a largest-size request could
// use, and the largest allocation that would succeed now.
func (c *counters) stats(capacity, metadata, free, usableFree, largest int64) Stats {
	s := Stats{
		Capacity: capacity, LiveBytes: c.live, ReservedBytes: c.reserved, PeakLiveBytes: c.peak,
		Allocs: c.allocs, Frees: c.frees, FailedAllocs: c.failed, MetadataBytes: metadata,
		FreeBytes: free, LargestFree: largest, LiveAllocation: c.count(),
		MetadataOverhead: float64(metadata) / float64(max(capacity, 1)),
	}
	if c.reserved > 0 {
		s.InternalFragmentation = 1 - float64(c.live)/float64(c.reserved)
	}
	if s.FreeBytes > 0 {
		s.ExternalFragmentation = 1 - float64(usableFree)/float64(s.FreeBytes)
	}
	return s
}

// refuse counts a failed allocation and returns err with the request named.
func (c *counters) refuse(err error, size, align int64) error {
	c.failed++
	if align > MinAlign {
		return fmt.Errorf("%w: %d bytes aligned to %d", err, size, align)
	}
	return fmt.Errorf("%w: %d bytes", err, size)
}

// checkRequest validates a size and an alignment.
func checkRequest(size, align int64) error {
	if size <= 0 || align <= 0 || align&(align-1) != 0 {
		return ErrInvalidSize
	}
	return nil
}

// synchronized serializes every call to an Allocator with a mutex.
type synchronized struct {
	mu sync.Mutex // protects a
	a  Allocator
}

// Synchronized returns an Allocator safe for concurrent use that forwards
// every call to a under one mutex.
func Synchronized(a Allocator) Allocator { return &synchronized{a: a} }

func (s *synchronized) Alloc(size int64) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.a.Alloc(size)
}

func (s *synchronized) AllocAligned(size, align int64) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.a.AllocAligned(size, align)
}

func (s *synchronized) Free(off, size int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.a.Free(off, size)
}

func (s *synchronized) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.a.Reset()
}

func (s *synchronized) Capacity() int64 { return s.a.Capacity() }

func (s *synchronized) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.a.Stats()
}
