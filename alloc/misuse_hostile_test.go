package alloc_test

import (
	"errors"
	"testing"

	"github.com/tiermem/tiermem/alloc"
	"github.com/tiermem/tiermem/memory"
)

// Stats.LargestFree is "the largest allocation that would succeed now": an
// Arena's counts the padding Alloc puts before the next start (MinAlign),
// so after an allocation of an odd size that allocation still succeeds.
func TestHostileArenaLargestFreeSucceeds(t *testing.T) {
	a, err := alloc.NewArena(1024)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Alloc(10); err != nil {
		t.Fatal(err)
	}
	largest := a.Stats().LargestFree
	if _, err := a.Alloc(largest); err != nil {
		t.Errorf("Stats().LargestFree = %d, but Alloc(%d): %v", largest, largest, err)
	}
}

// Pool.Get "always returns a value ready for use: a reused one or a new
// one": a nil put back is not kept.
func TestHostilePoolGetNeverNil(t *testing.T) {
	p := alloc.NewPool[int](nil, nil)
	for range 100 {
		p.Put(nil)
		if v := p.Get(); v == nil {
			t.Fatal("Get returned nil after Put(nil)")
		}
	}
}

// Regions.Alloc returns an error; once the memory's owner has closed it,
// it says so (memory.ErrClosed) rather than panic, and keeps no space in
// the allocator.
func TestHostileRegionsAllocAfterCloseIsAnError(t *testing.T) {
	h, err := memory.Allocate(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	s, err := alloc.NewSlab(1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := alloc.NewRegions(h.Writable(), s)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Errorf("Regions.Alloc after the memory was closed panicked: %v", p)
			}
		}()
		if _, err := r.Alloc(64); !errors.Is(err, memory.ErrClosed) {
			t.Errorf("Regions.Alloc after Close = %v, want an error wrapping memory.ErrClosed", err)
		}
	}()
	if live := s.Stats().LiveAllocation; live != 0 {
		t.Errorf("a failed Regions.Alloc left %d allocations live in the slab", live)
	}
}
