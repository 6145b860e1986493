package alloc

import (
	"fmt"
	"math/bits"
	"unsafe"
)

// Buddy is a binary buddy allocator for variable sizes. The space is covered
// by blocks of MinBlock·2^k bytes (order k), each aligned to its size. An
// allocation takes the smallest free block that fits, splitting a larger one
// in halves as needed; a free merges a block with its buddy (the other half
// of its parent) for as long as the buddy is free too, so free space does not
// stay cut into small pieces.
//
// Bookkeeping is two bitmaps per order (free blocks, allocated blocks) and a
// stack of free blocks per order: about 4 bits per MinBlock bytes of space.
// A Buddy is not safe for concurrent use.
type Buddy struct {
	capacity int64
	minShift uint
	maxOrder int
	free     []bitset  // free[k]: blocks of order k that are free
	taken    []bitset  // taken[k]: blocks of order k handed out
	stacks   [][]int64 // candidate free blocks per order; entries whose free bit is clear are stale
	nfree    []int64   // free blocks per order
	counters
}

// NewBuddy returns a buddy allocator over capacity bytes with blocks of at
// least minBlock bytes (a power of two, at least 16). Bytes past the last
// whole minBlock are not used.
func NewBuddy(capacity, minBlock int64) (*Buddy, error) {
	if minBlock < MinAlign || minBlock&(minBlock-1) != 0 || capacity < minBlock {
		return nil, fmt.Errorf("%w: buddy of %d bytes with %d-byte blocks", ErrInvalidSize, capacity, minBlock)
	}
	if blocks := capacity / minBlock; blocks > maxBuddyBlocks {
		return nil, fmt.Errorf("%w: buddy of %d bytes in %d blocks of %d bytes, more than %d: larger blocks, or a smaller buddy",
			ErrInvalidSize, capacity, blocks, minBlock, int64(maxBuddyBlocks))
	}
	b := &Buddy{capacity: capacity, minShift: uint(bits.TrailingZeros64(uint64(minBlock)))}
	b.maxOrder = 63 - bits.LeadingZeros64(uint64(capacity>>b.minShift))
	for k := 0; k <= b.maxOrder; k++ {
		blocks := capacity >> (b.minShift + uint(k))
		b.free = append(b.free, newBitset(blocks))
		b.taken = append(b.taken, newBitset(blocks))
	}
	b.stacks = make([][]int64, b.maxOrder+1)
	b.nfree = make([]int64, b.maxOrder+1)
	b.Reset()
	return b, nil
}

// maxBuddyBlocks bounds a buddy's smallest blocks, whose bitmaps (about
// half a byte each) are allocated up front: 2^32, 64 TiB of 16 KiB blocks.
const maxBuddyBlocks = 1 << 32

// Capacity returns the size of the offset space.
func (b *Buddy) Capacity() int64 { return b.capacity }

// BlockSize returns the bytes an allocation of size occupies, or 0 when size
// is not positive or larger than the largest block.
func (b *Buddy) BlockSize(size int64) int64 {
	k := b.order(size)
	if size <= 0 || k > b.maxOrder {
		return 0
	}
	return int64(1) << (b.minShift + uint(k))
}

// order returns the order of the smallest block that holds size bytes.
func (b *Buddy) order(size int64) int {
	if size <= 1<<b.minShift {
		return 0
	}
	return bits.Len64(uint64(size-1)) - int(b.minShift)
}

// Alloc reserves size bytes in a block of the next power of two (at least
// MinBlock), aligned to the block's size.
func (b *Buddy) Alloc(size int64) (int64, error) { return b.AllocAligned(size, MinAlign) }

// AllocAligned reserves size bytes at a multiple of align: blocks are aligned
// to their size, so this takes a block of at least align bytes.
func (b *Buddy) AllocAligned(size, align int64) (int64, error) {
	if err := checkRequest(size, align); err != nil {
		return 0, b.refuse(err, size, align)
	}
	k := max(b.order(size), b.order(align))
	if k > b.maxOrder {
		return 0, b.refuse(ErrTooLarge, size, align)
	}
	j := k
	for j <= b.maxOrder && b.nfree[j] == 0 {
		j++
	}
	if j > b.maxOrder {
		return 0, b.refuse(ErrNoSpace, size, align)
	}
	i := b.popFree(j)
	for ; j > k; j-- { // split: keep the lower half, free the upper
		i *= 2
		b.pushFree(j-1, i+1)
	}
	b.taken[k].set(i)
	b.allocated(size, int64(1)<<(b.minShift+uint(k)))
	return i << (b.minShift + uint(k)), nil
}

// Free releases the block of size bytes at off and merges it with its free
// buddies.
func (b *Buddy) Free(off, size int64) error {
	k := b.order(size)
	if size <= 0 || off < 0 || k > b.maxOrder || off&(int64(1)<<(b.minShift+uint(k))-1) != 0 ||
		off>>(b.minShift+uint(k)) >= b.taken[k].n {
		return fmt.Errorf("%w: %d bytes at offset %d", ErrNotAllocated, size, off)
	}
	k = b.takenOrder(off, k) // AllocAligned may have taken a larger block
	i := off >> (b.minShift + uint(k))
	if !b.taken[k].get(i) {
		return b.freeError(k, i, off, size)
	}
	b.taken[k].clear(i)
	b.freed(size, int64(1)<<(b.minShift+uint(k)))
	for k < b.maxOrder && i^1 < b.free[k].n && b.free[k].get(i^1) {
		b.free[k].clear(i ^ 1) // the buddy's stack entry goes stale
		b.nfree[k]--
		i /= 2
		k++
	}
	b.pushFree(k, i)
	return nil
}

// takenOrder returns the order of the block taken at off, searching up
// from k, the order of the size freed, while off stays aligned to the
// order: an AllocAligned with an alignment larger than its size took a
// block of its alignment's order. It returns k when none is taken.
func (b *Buddy) takenOrder(off int64, k int) int {
	for j := k; j <= b.maxOrder && off&(int64(1)<<(b.minShift+uint(j))-1) == 0; j++ {
		if i := off >> (b.minShift + uint(j)); i < b.taken[j].n && b.taken[j].get(i) {
			return j
		}
	}
	return k
}

// freeError tells a double free (the block, or a block that holds it, is
// free) from a free of something never allocated. In the tail of a
// capacity that is not a power of two, the blocks that would hold off stop
// existing at some order (the tail is covered by smaller blocks), so the
// walk up stops at the first order with no block i.
func (b *Buddy) freeError(k int, i, off, size int64) error {
	for ; k <= b.maxOrder && i < b.free[k].n; k, i = k+1, i/2 {
		if b.free[k].get(i) {
			return fmt.Errorf("%w: %d bytes at offset %d", ErrDoubleFree, size, off)
		}
	}
	return fmt.Errorf("%w: %d bytes at offset %d", ErrNotAllocated, size, off)
}

func (b *Buddy) pushFree(k int, i int64) {
	b.free[k].set(i)
	b.nfree[k]++
	b.stacks[k] = append(b.stacks[k], i)
	if len(b.stacks[k]) > 64 && int64(len(b.stacks[k])) > 4*b.nfree[k] {
		b.compact(k)
	}
}

// popFree takes a free block of order k; nfree[k] must be positive.
func (b *Buddy) popFree(k int) int64 {
	for {
		st := b.stacks[k]
		i := st[len(st)-1]
		b.stacks[k] = st[:len(st)-1]
		if b.free[k].get(i) {
			b.free[k].clear(i)
			b.nfree[k]--
			return i
		}
	}
}

// compact drops the stale and duplicate entries of stack k.
func (b *Buddy) compact(k int) {
	kept := b.stacks[k][:0]
	for _, i := range b.stacks[k] {
		if b.free[k].get(i) {
			b.free[k].clear(i) // so a duplicate entry is dropped
			kept = append(kept, i)
		}
	}
	for _, i := range kept {
		b.free[k].set(i)
	}
	b.stacks[k] = kept
}

// Reset frees every allocation: the space is covered again by the largest
// aligned blocks that fit.
func (b *Buddy) Reset() {
	for k := range b.free {
		b.free[k].reset()
		b.taken[k].reset()
		b.stacks[k] = b.stacks[k][:0]
		b.nfree[k] = 0
	}
	usable := b.capacity >> b.minShift << b.minShift
	for off := int64(0); off < usable; {
		k := min(b.maxOrder, bits.TrailingZeros64(uint64(off>>b.minShift)|1<<62), bits.Len64(uint64((usable-off)>>b.minShift))-1)
		b.pushFree(k, off>>(b.minShift+uint(k)))
		off += int64(1) << (b.minShift + uint(k))
	}
	b.counters.reset()
}

// Stats returns the buddy's counters. Its usable free space for external
// fragmentation is the free blocks of the largest free order.
func (b *Buddy) Stats() Stats {
	meta := int64(unsafe.Sizeof(*b))
	var free, largest, usable int64
	for k := range b.free {
		meta += 2*int64(len(b.free[k].words))*8 + int64(cap(b.stacks[k]))*8 + 8
		size := int64(1) << (b.minShift + uint(k))
		free += b.nfree[k] * size
		if b.nfree[k] > 0 {
			largest, usable = size, b.nfree[k]*size
		}
	}
	return b.counters.stats(b.capacity, meta, free, usable, largest)
}

// bitset is a fixed-size set of block indices.
type bitset struct {
	words []uint64
	n     int64
}

func newBitset(n int64) bitset    { return bitset{words: make([]uint64, (n+63)/64), n: n} }
func (s bitset) get(i int64) bool { return s.words[i/64]&(1<<(i%64)) != 0 }
func (s bitset) set(i int64)      { s.words[i/64] |= 1 << (i % 64) }
func (s bitset) clear(i int64)    { s.words[i/64] &^= 1 << (i % 64) }
func (s bitset) reset()           { clear(s.words) }
