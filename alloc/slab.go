package alloc

import (
	"fmt"
	"math/bits"
	"unsafe"
)

// SlabOptions configures a Slab. The zero value gives the defaults.
type SlabOptions struct {
	// SpanSize is the size of a span, a power of two between 4 KiB and 2 GiB:
	// a span holds slots of one size class only, so the space should hold a
	// span for each class in use (the defaults give at least 128 spans).
	// Default: 1 MiB, or for a capacity under 128 MiB the largest power of
	// two not above capacity/128 (at least 4 KiB).
	SpanSize int64
	// MaxSize is the largest allocation; default SpanSize/16 (64 KiB for 1 MiB
	// spans). It may not exceed SpanSize nor 1 MiB: larger allocations belong
	// in a Buddy.
	MaxSize int64
	// Released, if set, is called with the offset and size of a span each
	// time the span goes back to the pool with no slot in use (Reset
	// included), so that the owner can return the memory behind it to the
	// system.
	Released func(off, size int64)
}

// Slab is a size-class allocator. The space is cut into spans; a span serves
// one size class and tracks its free slots in a bitmap (one bit per slot,
// kept outside the space); each class keeps the spans that have a free slot.
// Allocation rounds the size up to its class, takes a slot from the class's
// last partial span, and takes a new span when there is none. A span whose
// slots are all free goes back to the pool of spans, unless it is the class's
// only partial span (which keeps alloc/free pairs from churning spans).
//
// A Slab is not safe for concurrent use.
type Slab struct {
	capacity  int64
	spanShift uint
	maxSize   int64
	classes   []sizeClass
	classOf   []uint8 // classOf[(size+15)/16] is the class of size
	spans     []span
	freeSpans []int32 // spans that belong to no class
	released  func(off, size int64)
	counters
}

// span is the bookkeeping of one span of a Slab. It repeats its class's
// slot size, divisor and slot count so that Free reads only the span.
type span struct {
	bits    []uint64 // bit i set = slot i free
	size    int64    // slot size of the class
	divMul  uint64   // the class's divMul
	index   int32    // position in Slab.spans
	class   int16    // index in Slab.classes, or -1 for a free span
	free    int32    // free slots
	perSpan int32    // slots in the span
	hint    int32    // the lowest bitmap word that may have a free slot
	pos     int32    // index in its class's partial list, or -1
}

// NewSlab returns a slab allocator over an offset space of capacity bytes;
// opts may be nil.
func NewSlab(capacity int64, opts *SlabOptions) (*Slab, error) {
	var o SlabOptions
	if opts != nil {
		o = *opts
	}
	if o.SpanSize == 0 {
		o.SpanSize = max(4096, min(1<<20, int64(1)<<(63-bits.LeadingZeros64(uint64(max(capacity/128, 1))))))
	}
	if o.MaxSize == 0 {
		o.MaxSize = max(o.SpanSize/16, MinAlign)
	}
	if o.SpanSize < 4096 || o.SpanSize > 1<<31 || o.SpanSize&(o.SpanSize-1) != 0 ||
		o.MaxSize > o.SpanSize || o.MaxSize > maxSlabSize || o.MaxSize < MinAlign || capacity < o.SpanSize {
		return nil, fmt.Errorf("%w: slab of %d bytes with %d-byte spans and %d-byte max size",
			ErrInvalidSize, capacity, o.SpanSize, o.MaxSize)
	}
	if spans := capacity / o.SpanSize; spans > maxSpans {
		return nil, fmt.Errorf("%w: slab of %d bytes in %d spans of %d bytes, more than %d: larger spans, or a smaller slab",
			ErrInvalidSize, capacity, spans, o.SpanSize, maxSpans)
	}
	s := &Slab{capacity: capacity, spanShift: uint(bits.TrailingZeros64(uint64(o.SpanSize))), maxSize: o.MaxSize, released: o.Released}
	s.initClasses(o.SpanSize)
	s.spans = make([]span, capacity>>s.spanShift)
	s.freeSpans = make([]int32, 0, len(s.spans))
	s.resetSpans()
	return s, nil
}

// maxSpans bounds a slab's spans, whose bookkeeping (about 100 bytes
// each) is allocated up front: 4 Mi spans, 4 TiB with 1 MiB spans.
const maxSpans = 1 << 22

// maxSlabSize bounds MaxSize: its classes (at most 16 + 137 for 1 MiB) fit
// the uint8 class index, and classOf has at most 64 Ki entries.
const maxSlabSize = 1 << 20

func (s *Slab) initClasses(spanSize int64) {
	for _, size := range classSizes(spanSize, s.maxSize) {
		s.classes = append(s.classes, newSizeClass(size, spanSize))
	}
	if len(s.classes) > 255 {
		panic("alloc: too many size classes") // unreachable with maxSlabSize
	}
	s.classOf = make([]uint8, (s.maxSize+MinAlign-1)/MinAlign+1) // up to the index of maxSize, rounded up
	c := 0
	for i := range s.classOf {
		for s.classes[c].size < int64(i)*MinAlign {
			c++
		}
		s.classOf[i] = uint8(c)
	}
}

// Capacity returns the size of the offset space.
func (s *Slab) Capacity() int64 { return s.capacity }

// MaxSize returns the largest size Alloc accepts.
func (s *Slab) MaxSize() int64 { return s.maxSize }

// SpanSize returns the size of a span: slots of one class never cross a
// span's bounds, which are multiples of it.
func (s *Slab) SpanSize() int64 { return 1 << s.spanShift }

// ClassSize returns the bytes an allocation of size occupies, or 0 if size
// is out of range.
func (s *Slab) ClassSize(size int64) int64 {
	if size <= 0 || size > s.maxSize {
		return 0
	}
	return s.classes[s.classOf[(size+MinAlign-1)/MinAlign]].size
}

// Alloc reserves size bytes, 16-byte aligned, in O(1).
func (s *Slab) Alloc(size int64) (int64, error) {
	if size <= 0 || size > s.maxSize {
		return 0, s.refuseSize(size, MinAlign)
	}
	return s.allocClass(int(s.classOf[(size+MinAlign-1)/MinAlign]), size)
}

// AllocAligned reserves size bytes at an offset that is a multiple of align.
// Slots of a class are aligned to the largest power of two dividing the
// class size, so this picks the smallest class that is both big and aligned
// enough; it returns ErrTooLarge when no class is.
func (s *Slab) AllocAligned(size, align int64) (int64, error) {
	if err := checkRequest(size, align); err != nil || size > s.maxSize {
		return 0, s.refuseSize(size, align)
	}
	if align <= MinAlign {
		return s.Alloc(size)
	}
	for c := int(s.classOf[(size+MinAlign-1)/MinAlign]); c < len(s.classes); c++ {
		if s.classes[c].align >= align {
			return s.allocClass(c, size)
		}
	}
	return 0, s.refuse(ErrTooLarge, size, align)
}

func (s *Slab) refuseSize(size, align int64) error {
	if size > s.maxSize && align > 0 && align&(align-1) == 0 {
		return s.refuse(ErrTooLarge, size, align)
	}
	return s.refuse(ErrInvalidSize, size, align)
}

func (s *Slab) allocClass(c int, size int64) (int64, error) {
	cl := &s.classes[c]
	sp := cl.cur
	if sp == nil {
		if !s.assignSpan(c) {
			return 0, s.refuse(ErrNoSpace, size, MinAlign)
		}
		sp = cl.cur
	}
	w := sp.hint
	word := sp.bits[w]
	for word == 0 {
		w++
		word = sp.bits[w]
	}
	b := bits.TrailingZeros64(word)
	sp.bits[w] = word &^ (1 << b)
	sp.hint = w
	if sp.free--; sp.free == 0 {
		s.removePartial(cl, sp)
	}
	s.allocated(size, sp.size)
	return int64(sp.index)<<s.spanShift + (int64(w)*64+int64(b))*sp.size, nil
}

// addPartial puts sp at the end of its class's partial list: it becomes the
// span that allocations take from.
func (s *Slab) addPartial(cl *sizeClass, sp *span) {
	sp.pos = int32(len(cl.partial))
	cl.partial = append(cl.partial, sp.index)
	cl.cur = sp
}

// removePartial takes sp out of its class's partial list.
func (s *Slab) removePartial(cl *sizeClass, sp *span) {
	last := cl.partial[len(cl.partial)-1]
	cl.partial[sp.pos] = last
	s.spans[last].pos = sp.pos
	cl.partial = cl.partial[:len(cl.partial)-1]
	sp.pos = -1
	cl.cur = nil
	if len(cl.partial) > 0 {
		cl.cur = &s.spans[cl.partial[len(cl.partial)-1]]
	}
}

// assignSpan gives a free span to class c, with every slot free.
func (s *Slab) assignSpan(c int) bool {
	if len(s.freeSpans) == 0 && !s.reclaimEmptySpan() {
		return false
	}
	si := s.freeSpans[len(s.freeSpans)-1]
	s.freeSpans = s.freeSpans[:len(s.freeSpans)-1]
	cl := &s.classes[c]
	sp := &s.spans[si]
	words := (int(cl.perSpan) + 63) / 64
	if cap(sp.bits) < words {
		sp.bits = make([]uint64, words)
	}
	sp.bits = sp.bits[:words]
	for i := range sp.bits {
		sp.bits[i] = ^uint64(0)
	}
	if tail := cl.perSpan % 64; tail != 0 {
		sp.bits[words-1] = 1<<tail - 1
	}
	*sp = span{bits: sp.bits, size: cl.size, divMul: cl.divMul, index: si, class: int16(c), free: cl.perSpan, perSpan: cl.perSpan}
	s.addPartial(cl, sp)
	return true
}

// Free releases the size bytes at off in O(1). It returns ErrNotAllocated
// for an offset that is not the start of a slot, or a size larger than the
// slot, and ErrDoubleFree for a slot that is already free. A smaller size
// than allocated is not detected (an AllocAligned may have put a small
// allocation in a larger class): see Allocator.Free.
func (s *Slab) Free(off, size int64) error {
	if off < 0 || off>>s.spanShift >= int64(len(s.spans)) {
		return s.notAllocated(off, size)
	}
	sp := &s.spans[off>>s.spanShift]
	rel := off & (1<<s.spanShift - 1)
	slot := int64((uint64(rel) * sp.divMul) >> 32)
	if sp.class < 0 || slot*sp.size != rel || size <= 0 || size > sp.size || slot >= int64(sp.perSpan) {
		return s.notAllocated(off, size)
	}
	w, b := slot/64, uint(slot%64)
	word := sp.bits[w]
	if word&(1<<b) != 0 {
		return fmt.Errorf("%w: %d bytes at offset %d", ErrDoubleFree, size, off)
	}
	sp.bits[w] = word | 1<<b
	sp.hint = min(sp.hint, int32(w))
	s.freed(size, sp.size)
	if sp.free++; sp.free == 1 || sp.free == sp.perSpan {
		s.spanNoLongerFull(sp)
	}
	return nil
}

// spanNoLongerFull handles the two transitions of a free: a full span
// becomes partial (its class can allocate from it again), and a partial span
// becomes empty (it goes back to the pool unless its class has no other).
func (s *Slab) spanNoLongerFull(sp *span) {
	cl := &s.classes[sp.class]
	if sp.free == 1 {
		s.addPartial(cl, sp)
	}
	if sp.free == sp.perSpan && len(cl.partial) > 1 {
		s.releaseSpan(cl, sp)
	}
}

func (s *Slab) notAllocated(off, size int64) error {
	return fmt.Errorf("%w: %d bytes at offset %d", ErrNotAllocated, size, off)
}

// reclaimEmptySpan returns to the pool an empty span that a class kept as
// its only partial span. It runs only when the pool is empty.
func (s *Slab) reclaimEmptySpan() bool {
	for c := range s.classes {
		cl := &s.classes[c]
		if len(cl.partial) == 1 && cl.cur.free == cl.perSpan {
			s.releaseSpan(cl, cl.cur)
			return true
		}
	}
	return false
}

// releaseSpan takes the empty span sp out of its class's partial list and
// returns it to the pool of free spans.
func (s *Slab) releaseSpan(cl *sizeClass, sp *span) {
	s.removePartial(cl, sp)
	sp.class = -1
	s.freeSpans = append(s.freeSpans, sp.index)
	if s.released != nil {
		s.released(int64(sp.index)<<s.spanShift, 1<<s.spanShift)
	}
}

// Reset frees every allocation: all spans return to the pool, and Released
// (if set) is called for each span that belonged to a class.
func (s *Slab) Reset() {
	if s.released != nil {
		for i := range s.spans {
			if s.spans[i].class >= 0 {
				s.released(int64(i)<<s.spanShift, 1<<s.spanShift)
			}
		}
	}
	s.resetSpans()
}

// resetSpans puts every span in the pool and zeroes the counters.
func (s *Slab) resetSpans() {
	s.freeSpans = s.freeSpans[:0]
	for i := len(s.spans) - 1; i >= 0; i-- {
		s.spans[i].class, s.spans[i].pos, s.spans[i].index = -1, -1, int32(i)
		s.freeSpans = append(s.freeSpans, int32(i))
	}
	for c := range s.classes {
		s.classes[c].partial = s.classes[c].partial[:0]
		s.classes[c].cur = nil
	}
	s.counters.reset()
}

// Stats returns the slab's counters. It walks the spans: O(capacity/span size).
func (s *Slab) Stats() Stats {
	spanSize := int64(1) << s.spanShift
	meta := int64(unsafe.Sizeof(*s)) + int64(cap(s.spans))*int64(unsafe.Sizeof(span{})) +
		int64(cap(s.freeSpans))*4 + int64(len(s.classOf)) + int64(cap(s.classes))*int64(unsafe.Sizeof(sizeClass{}))
	for i := range s.spans {
		meta += int64(cap(s.spans[i].bits)) * 8
	}
	largest := int64(0)
	freeSpanBytes := int64(len(s.freeSpans)) * spanSize
	for c := range s.classes {
		cl := &s.classes[c]
		meta += int64(cap(cl.partial)) * 4
		if len(cl.partial) > 0 {
			largest = max(largest, min(cl.size, s.maxSize))
		}
		if len(cl.partial) == 1 && cl.cur.free == cl.perSpan {
			freeSpanBytes += spanSize // kept empty, reclaimed when needed
		}
	}
	if freeSpanBytes > 0 {
		largest = s.maxSize
	}
	// Bytes past the last whole span and at the end of each span can never
	// be handed out, so free bytes are those of free spans and free slots.
	free := int64(len(s.freeSpans))*spanSize + s.freeSlotBytes()
	return s.counters.stats(s.capacity, meta, free, min(freeSpanBytes, free), largest)
}

// freeSlotBytes is the bytes of free slots in spans that belong to a class.
func (s *Slab) freeSlotBytes() int64 {
	var n int64
	for i := range s.spans {
		if sp := &s.spans[i]; sp.class >= 0 {
			n += int64(sp.free) * s.classes[sp.class].size
		}
	}
	return n
}
