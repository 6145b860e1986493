package alloc_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/tiermem/tiermem/alloc"
)

// A buddy whose capacity is not a power of two has a tail covered by smaller
// blocks. A wrong Free of an offset inside a live tail block must be
// ErrNotAllocated, as it is everywhere else in the space, not a panic.
func TestHostileBuddyBogusFreeInTailBlock(t *testing.T) {
	b, err := alloc.NewBuddy(64<<10+512, 16) // 64 KiB block, then a 512-byte tail block
	if err != nil {
		t.Fatal(err)
	}
	off, err := b.Alloc(512) // takes the tail block: the smallest free block that fits
	if err != nil {
		t.Fatal(err)
	}
	if off != 64<<10 {
		t.Fatalf("Alloc(512) = %d, want the tail block at %d", off, 64<<10)
	}
	hostileNoPanic(t, "Free inside a live tail block", func() {
		if err := b.Free(off+16, 16); !errors.Is(err, alloc.ErrNotAllocated) {
			t.Errorf("Free(%d, 16) inside a live block = %v, want ErrNotAllocated", off+16, err)
		}
	})
	if err := b.Free(off, 512); err != nil {
		t.Fatalf("the real Free after the wrong one: %v", err)
	}
}

// The same over many capacities that are not a power of two: a wrong Free
// of any offset that is not the start of a live allocation is an error
// (ErrNotAllocated or ErrDoubleFree), never a panic, and changes nothing.
func TestHostileBuddyBogusFreeAnywhere(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for m := int64(1); m < 1024; m += 37 {
		capacity := int64(64<<10) + 16*m
		b, err := alloc.NewBuddy(capacity, 16)
		if err != nil {
			t.Fatal(err)
		}
		live := map[int64]int64{}
		for range 300 {
			size := 16 << r.IntN(9)
			if off, err := b.Alloc(int64(size)); err == nil {
				live[off] = int64(size)
			}
		}
		before := b.Stats()
		for off := int64(0); off < capacity; off += 16 {
			if _, ok := live[off]; ok {
				continue
			}
			hostileNoPanic(t, "bogus Free", func() {
				err := b.Free(off, 16)
				if !errors.Is(err, alloc.ErrNotAllocated) && !errors.Is(err, alloc.ErrDoubleFree) {
					t.Errorf("capacity %d: Free(%d, 16), no allocation there = %v", capacity, off, err)
				}
			})
		}
		if after := b.Stats(); after.LiveAllocation != before.LiveAllocation || after.FreeBytes != before.FreeBytes {
			t.Fatalf("capacity %d: bogus frees changed the allocator: %+v, then %+v", capacity, before, after)
		}
		for off, size := range live {
			if err := b.Free(off, size); err != nil {
				t.Fatalf("capacity %d: the real Free(%d, %d): %v", capacity, off, size, err)
			}
		}
	}
}
