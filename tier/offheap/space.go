package offheap

import (
	"fmt"
	"sync"

	"github.com/tiermem/tiermem/alloc"
	"github.com/tiermem/tiermem/memory"
	"github.com/tiermem/tiermem/tier"
)

// largeFlag marks a location that names a record in its own mapping rather
// than an offset in the slab (slab offsets stay below 2⁴⁶, 64 TiB).
const largeFlag = 1 << (locationBits - 1)

// space is where records live: small ones in slots of a slab over one
// anonymous mapping (pages of spans the slab releases go back to the system),
// large ones in a mapping each.
type space struct {
	mu     sync.Mutex // protects slab, large and nextID
	h      *memory.WritableHandle
	mem    memory.WritableMemory
	slab   *alloc.Slab
	large  map[uint64]*memory.WritableHandle // id → mapping
	nextID uint64
}

func newSpace(capacity, maxSmall int64) (*space, error) {
	h, err := memory.Reserve(capacity) // RAM only as slots are used
	if err != nil {
		return nil, err
	}
	s := &space{h: h, mem: h.Writable(), large: map[uint64]*memory.WritableHandle{}}
	s.slab, err = alloc.NewSlab(capacity, &alloc.SlabOptions{MaxSize: maxSmall, Released: s.discard})
	if err != nil {
		h.Close()
		return nil, err
	}
	return s, nil
}

// discard returns the pages of a released span to the system.
func (s *space) discard(off, size int64) { s.h.Discard(off, size) }

// small reports whether a record of size bytes goes in the slab.
func (s *space) small(size int64) bool { return size <= s.slab.MaxSize() }

// alloc reserves a record of size bytes and returns its location, its memory
// and the bytes it occupies.
func (s *space) alloc(size int64) (uint64, memory.WritableMemory, int64, error) {
	if s.small(size) {
		s.mu.Lock()
		off, err := s.slab.Alloc(size)
		s.mu.Unlock()
		if err != nil {
			return 0, memory.WritableMemory{}, 0, fmt.Errorf("offheap: %d-byte record: %w: %w", size, tier.ErrNoSpace, err)
		}
		return uint64(off), s.mem.Region(off, size), s.slab.ClassSize(size), nil
	}
	h, err := memory.Allocate(size)
	if err != nil {
		return 0, memory.WritableMemory{}, 0, fmt.Errorf("offheap: %d-byte record: %w: %w", size, tier.ErrNoSpace, err)
	}
	s.mu.Lock()
	id := s.nextID
	s.nextID++
	s.large[id] = h
	s.mu.Unlock()
	return id | largeFlag, h.Writable(), pageRounded(size), nil
}

func pageRounded(n int64) int64 { return (n + 4095) &^ 4095 }

// record returns the memory of the record at loc (for the slab, from its
// start to the end of the space: readRecord finds its length).
func (s *space) record(loc uint64) memory.Memory {
	if loc&largeFlag == 0 {
		return s.mem.ReadOnly().Region(int64(loc), s.mem.Size()-int64(loc))
	}
	s.mu.Lock()
	h := s.large[loc&^largeFlag]
	s.mu.Unlock()
	return h.Memory()
}

// free releases the record of size bytes at loc and returns the bytes it occupied.
func (s *space) free(loc uint64, size int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if loc&largeFlag == 0 {
		if err := s.slab.Free(int64(loc), size); err != nil {
			panic(fmt.Sprintf("offheap: freeing a record the store placed: %v", err)) // a bug of this package
		}
		return s.slab.ClassSize(size)
	}
	id := loc &^ largeFlag
	s.large[id].Close()
	delete(s.large, id)
	return pageRounded(size)
}

// stats returns the slab's counters and the number and bytes of large records.
func (s *space) stats() (alloc.Stats, int, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var bytes int64
	for _, h := range s.large {
		bytes += pageRounded(h.Size())
	}
	return s.slab.Stats(), len(s.large), bytes
}

func (s *space) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, h := range s.large {
		h.Close()
		delete(s.large, id)
	}
	return s.h.Close()
}
