package offheap

import (
	"fmt"
	"math/bits"
	"sync"
	"time"

	"github.com/tiermem/tiermem/alloc"
	"github.com/tiermem/tiermem/memory"
	"github.com/tiermem/tiermem/tier"
)

// A location is a slab offset divided by alloc.MinAlign, or, with largeFlag
// set, the id of a record in its own mapping. Slab offsets so stay below
// 2³⁸ × 16 bytes, 4 TiB: maxSlab.
const (
	largeFlag = 1 << (locationBits - 1)
	maxSlab   = largeFlag * alloc.MinAlign
)

func slabLocation(off int64) uint64 { return uint64(off) / alloc.MinAlign }

func slabOffset(loc uint64) int64 { return int64(loc * alloc.MinAlign) }

// space is where records live: small ones in slots of a slab over one
// anonymous mapping (pages of spans the slab releases go back to the system),
// large ones in a mapping each.
type space struct {
	mu     sync.Mutex // protects slab, large, nextID, spares, spareBytes and heldBytes
	h      *memory.WritableHandle
	mem    memory.WritableMemory
	slab   *alloc.Slab
	large  map[uint64]*largeMapping // id → mapping
	nextID uint64

	// Mappings of freed large records, kept for the next large record: a
	// fresh mapping costs a page fault per page written, which on a virtual
	// machine halves the bandwidth of a store. At most maxSpare bytes, and
	// Trim returns those unused for a while to the system.
	spares     []spare
	spareBytes int64
	maxSpare   int64

	// heldBytes are the bytes of mappings whose records are gone but that
	// LargeValues still read: memory beyond what the records are charged.
	heldBytes int64
}

// spare is a mapping kept for reuse, and when it was freed.
type spare struct {
	h     *memory.WritableHandle
	freed time.Time
}

func newSpace(capacity, maxSmall int64) (*space, error) {
	switch {
	case maxSmall > maxSmallLimit:
		return nil, fmt.Errorf("%w: MaxSmall %d is more than %d bytes", ErrOptions, maxSmall, maxSmallLimit)
	case capacity < minSpan:
		return nil, fmt.Errorf("%w: a Capacity of %d bytes is less than one slab span of %d", ErrOptions, capacity, minSpan)
	}
	if capacity > maxSlab {
		return nil, fmt.Errorf("a capacity of %d bytes is more than the %d bytes the index can address: %w", capacity, int64(maxSlab), tier.ErrTooLarge)
	}
	h, err := memory.Reserve(capacity) // RAM only as slots are used
	if err != nil {
		return nil, err
	}
	// No huge pages here: the slab touches a span per size class and
	// releases spans page by page, so 2 MiB pages would make the RSS a
	// multiple of what is stored (36 MiB for one record in each class;
	// TestRSSFollowsWhatIsStored), and khugepaged may fill released spans
	// back in.
	s := &space{h: h, mem: h.Writable(), large: map[uint64]*largeMapping{}, maxSpare: min(capacity/4, 4<<30)}
	span := spanFor(capacity, maxSmall)
	s.slab, err = alloc.NewSlab(capacity, &alloc.SlabOptions{SpanSize: span, MaxSize: min(maxSmall, span), Released: s.discard})
	if err != nil {
		h.Close()
		return nil, err
	}
	return s, nil
}

// maxSmallLimit is the largest MaxSmall: the slab's largest size class.
// minSpan is the smallest slab span, and so the smallest Capacity.
const maxSmallLimit, minSpan = 1 << 20, 4096

// spanFor returns the slab's span size: a 128th of capacity (a power of two
// from 4 KiB to 1 MiB), or more, to hold a record of maxSmall bytes (the
// slab takes records of at most a span), but never more than capacity: a
// smaller span takes records of up to its size, and larger ones get
// mappings of their own.
func spanFor(capacity, maxSmall int64) int64 {
	floor := func(n int64) int64 { return int64(1) << (63 - bits.LeadingZeros64(uint64(max(n, 1)))) }
	span := max(minSpan, min(maxSmallLimit, floor(capacity/128)))
	if maxSmall > span {
		span = floor(2*maxSmall - 1) // the power of two at or above it
	}
	return min(span, floor(capacity))
}

// discard returns the pages of a released span to the system.
func (s *space) discard(off, size int64) { s.h.Discard(off, size) }

// small reports whether a record of size bytes goes in the slab: whether
// its size class does (for a MaxSmall that is no class size, the class of
// a record a little smaller is larger than the slab takes).
func (s *space) small(size int64) bool {
	c := s.slab.ClassSize(size)
	return c > 0 && c <= s.slab.MaxSize()
}

// alloc reserves a record of size bytes and returns its location, its memory
// and the bytes it occupies.
func (s *space) alloc(size int64) (uint64, memory.WritableMemory, int64, error) {
	if s.small(size) {
		class := s.slab.ClassSize(size)
		s.mu.Lock()
		off, err := s.slab.Alloc(class) // the class size: see free
		s.mu.Unlock()
		if err != nil {
			return 0, memory.WritableMemory{}, 0, fmt.Errorf("offheap: %d-byte record: %w: %w", size, tier.ErrNoSpace, err)
		}
		s.populate(off, class)
		return slabLocation(off), s.mem.Region(off, size), s.charge(size), nil
	}
	h, err := s.mapping(size)
	if err != nil {
		return 0, memory.WritableMemory{}, 0, fmt.Errorf("offheap: %d-byte record: %w: %w", size, tier.ErrNoSpace, err)
	}
	return s.adopt(h, size), h.Writable().Region(0, size), s.charge(size), nil
}

// populateChunk is how much of a span the slab's first slot in it faults
// in at once: a span's slots are handed out from its start, so the pages
// ahead are written soon, and one system call then costs less than a
// fault a page (64 KiB: 40% off the time to fill fresh memory on the VM
// BENCHMARKS.md names, where larger chunks gain little more). A span holds
// at most a chunk more in RAM than its slots use.
const populateChunk = 64 << 10

// populate faults in the chunk of its span that the slot of class bytes at
// off begins, or ends in, when the slot is the first to reach it: advice,
// so that filling a fresh span takes one system call a chunk rather than
// a fault a page.
func (s *space) populate(off, class int64) {
	chunk := min(populateChunk, s.slab.SpanSize())
	end := off + class - 1
	if off%chunk != 0 && off/chunk == end/chunk {
		return // inside a chunk an earlier slot reached
	}
	start := end &^ (chunk - 1)
	if off%chunk == 0 {
		start = off
	}
	s.h.Populate(start, chunk)
}

// charge returns the bytes a record of size bytes occupies: its slab slot,
// or the pages of its mapping (a reused spare's pages beyond them are
// returned to the system when it is reused).
func (s *space) charge(size int64) int64 {
	if s.small(size) {
		return s.slab.ClassSize(size)
	}
	return pageRounded(size)
}

// mapping returns a mapping of at least size bytes: a spare that wastes at
// most a quarter of itself, or a new one (with huge pages for big ones).
func (s *space) mapping(size int64) (*memory.WritableHandle, error) {
	s.mu.Lock()
	best := -1
	for i, sp := range s.spares {
		if n := sp.h.Size(); n >= size && n <= size+size/4 && (best < 0 || n < s.spares[best].h.Size()) {
			best = i
		}
	}
	if best >= 0 {
		h := s.spares[best].h
		s.spares = append(s.spares[:best], s.spares[best+1:]...)
		s.spareBytes -= h.Size()
		s.mu.Unlock()
		if tail := h.Size() - pageRounded(size); tail > 0 {
			h.Discard(pageRounded(size), tail) // advice: the pages beyond the record are not charged
		}
		return h, nil
	}
	s.mu.Unlock()
	h, err := memory.Allocate(size)
	if err == nil && size >= hugeRecord {
		h.HugePages() // advice: fewer page faults while the record is written
	}
	return h, err
}

// adopt makes h, a mapping from mapping, the space's record of size bytes
// and returns its location.
func (s *space) adopt(h *memory.WritableHandle, size int64) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID
	s.nextID++
	s.large[id] = &largeMapping{h: h, charged: pageRounded(size)}
	return id | largeFlag
}

// largeMapping is the mapping of one large record, and the LargeValues
// reading it.
type largeMapping struct {
	h       *memory.WritableHandle
	charged int64 // the record's pages: a reused spare may be larger (its tail discarded)
	loans   int   // LargeValues open on it; protected by space.mu
	freed   bool  // the record is gone (freed, or the store closed): the last loan unmaps it
}

// lend counts one more LargeValue reading the large record at loc.
func (s *space) lend(loc uint64) *largeMapping {
	s.mu.Lock()
	defer s.mu.Unlock()
	lm := s.large[loc&^largeFlag]
	lm.loans++
	return lm
}

// giveBack ends a loan of lm, unmapping it when it was the last and the
// record is gone.
func (s *space) giveBack(lm *largeMapping) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lm.loans--
	if lm.loans == 0 && lm.freed {
		s.heldBytes -= lm.h.Size()
		lm.h.Close()
	}
}

// hold marks lm, whose record is gone, to be unmapped by its last loan.
// s.mu is held.
func (s *space) hold(lm *largeMapping) {
	lm.freed = true
	s.heldBytes += lm.h.Size()
}

// disown takes back the mapping of the large record at loc without
// unmapping it: adopt undone.
func (s *space) disown(loc uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.large, loc&^largeFlag)
}

func pageRounded(n int64) int64 { return (n + 4095) &^ 4095 }

// hugeRecord is the size from which a record's mapping asks for huge pages.
const hugeRecord = 8 << 20

// record returns the memory of the record at loc (for the slab, from its
// start to the end of the space: readRecord finds its length).
func (s *space) record(loc uint64) memory.Memory {
	if loc&largeFlag == 0 {
		off := slabOffset(loc)
		return s.mem.ReadOnly().Region(off, s.mem.Size()-off)
	}
	s.mu.Lock()
	lm := s.large[loc&^largeFlag]
	s.mu.Unlock()
	return lm.h.Memory()
}

// writable returns the writable memory of the record of size bytes at loc,
// in the slab or in a mapping of its own.
func (s *space) writable(loc uint64, size int64) memory.WritableMemory {
	if loc&largeFlag == 0 {
		return s.slot(loc, size)
	}
	s.mu.Lock()
	lm := s.large[loc&^largeFlag]
	s.mu.Unlock()
	return lm.h.Writable().Region(0, size)
}

// slot returns the writable memory of the slab record of size bytes at loc.
func (s *space) slot(loc uint64, size int64) memory.WritableMemory {
	return s.mem.Region(slabOffset(loc), size)
}

// free releases the record of size bytes at loc and returns the bytes it occupied.
func (s *space) free(loc uint64, size int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if loc&largeFlag == 0 {
		// The slab is told class sizes, not record sizes: a Put may write
		// a record of another size over one of the same class (overwrite),
		// and the slab's live bytes would drift from what it was given.
		class := s.slab.ClassSize(size)
		if err := s.slab.Free(slabOffset(loc), class); err != nil {
			panic(fmt.Sprintf("offheap: freeing a record the store placed: %v", err)) // a bug of this package
		}
		return class
	}
	id := loc &^ largeFlag
	lm := s.large[id]
	delete(s.large, id)
	switch h := lm.h; {
	case lm.loans > 0: // a LargeValue reads it still: the last to close unmaps it
		s.hold(lm)
	case s.spareBytes+h.Size() <= s.maxSpare:
		s.spares = append(s.spares, spare{h: h, freed: time.Now()})
		s.spareBytes += h.Size()
	default:
		h.Close()
	}
	return lm.charged
}

// trim closes the spare mappings freed before cutoff.
func (s *space) trim(cutoff time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.spares[:0]
	for _, sp := range s.spares {
		if sp.freed.Before(cutoff) {
			s.spareBytes -= sp.h.Size()
			sp.h.Close()
		} else {
			kept = append(kept, sp)
		}
	}
	clear(s.spares[len(kept):])
	s.spares = kept
}

// stats returns the slab's counters, the number and bytes of large records,
// and the bytes of spare and held mappings.
func (s *space) stats() (alloc.Stats, int, int64, int64, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var bytes int64
	for _, lm := range s.large {
		bytes += lm.charged
	}
	return s.slab.Stats(), len(s.large), bytes, s.spareBytes, s.heldBytes
}

// held returns the bytes of mappings that LargeValues keep after their
// records left.
func (s *space) held() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heldBytes
}

func (s *space) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, lm := range s.large {
		if lm.loans > 0 {
			s.hold(lm) // unmapped by the last LargeValue to close
		} else {
			lm.h.Close()
		}
		delete(s.large, id)
	}
	for _, sp := range s.spares {
		sp.h.Close()
	}
	s.spares, s.spareBytes = nil, 0
	return s.h.Close()
}
