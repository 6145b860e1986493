package alloc_test

import (
	"errors"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/tiermem/tiermem/alloc"
)

// checker drives an allocator and checks it against a model of the live
// allocations: no two overlap, all lie inside the space, offsets are aligned,
// the stats agree, and refused frees change nothing.
type checker struct {
	t    testing.TB
	a    alloc.Allocator
	live map[int64]int64 // offset → size
	sum  int64
}

func newChecker(t testing.TB, a alloc.Allocator) *checker {
	return &checker{t: t, a: a, live: map[int64]int64{}}
}

func (c *checker) alloc(size, align int64) (int64, bool) {
	c.t.Helper()
	off, err := c.a.AllocAligned(size, align)
	if err != nil {
		if !errors.Is(err, alloc.ErrNoSpace) && !errors.Is(err, alloc.ErrTooLarge) {
			c.t.Fatalf("AllocAligned(%d, %d): unexpected error %v", size, align, err)
		}
		return 0, false
	}
	if off < 0 || off+size > c.a.Capacity() || off%max(align, alloc.MinAlign) != 0 {
		c.t.Fatalf("AllocAligned(%d, %d) = %d: outside the space or misaligned", size, align, off)
	}
	if _, dup := c.live[off]; dup {
		c.t.Fatalf("offset %d handed out twice", off)
	}
	c.live[off] = size
	c.sum += size
	return off, true
}

func (c *checker) free(off int64) {
	c.t.Helper()
	size := c.live[off]
	if err := c.a.Free(off, size); err != nil {
		c.t.Fatalf("Free(%d, %d): %v", off, size, err)
	}
	delete(c.live, off)
	c.sum -= size
	before := c.a.Stats()
	if err := c.a.Free(off, size); !errors.Is(err, alloc.ErrDoubleFree) && !errors.Is(err, alloc.ErrNotAllocated) && !errors.Is(err, alloc.ErrArenaFree) {
		c.t.Fatalf("second Free(%d, %d) = %v, want an error", off, size, err)
	}
	if after := c.a.Stats(); after.LiveBytes != before.LiveBytes || after.Frees != before.Frees {
		c.t.Fatalf("a refused free changed the stats: %+v -> %+v", before, after)
	}
}

// randomLive returns a live offset, or false if there is none.
func (c *checker) randomLive(rng *rand.Rand) (int64, bool) {
	for off := range c.live { // map order is random enough here
		if rng.IntN(4) == 0 {
			return off, true
		}
	}
	for off := range c.live {
		return off, true
	}
	return 0, false
}

// verify checks the invariants over all live allocations.
func (c *checker) verify() {
	c.t.Helper()
	offs := make([]int64, 0, len(c.live))
	for off := range c.live {
		offs = append(offs, off)
	}
	sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
	for i := 1; i < len(offs); i++ {
		if offs[i-1]+c.live[offs[i-1]] > offs[i] {
			c.t.Fatalf("allocations at %d (+%d) and %d overlap", offs[i-1], c.live[offs[i-1]], offs[i])
		}
	}
	st := c.a.Stats()
	if st.LiveBytes != c.sum || st.LiveAllocation != int64(len(c.live)) || st.ReservedBytes < st.LiveBytes {
		c.t.Fatalf("stats %+v, model: %d bytes in %d allocations", st, c.sum, len(c.live))
	}
	if st.FreeBytes < 0 || st.FreeBytes+st.ReservedBytes > st.Capacity {
		c.t.Fatalf("free %d + reserved %d > capacity %d", st.FreeBytes, st.ReservedBytes, st.Capacity)
	}
}

// run performs ops random operations with sizes up to maxSize. With
// undoOnly (the arena), a free undoes the newest allocation, once.
func (c *checker) run(rng *rand.Rand, ops int, maxSize int64, undoOnly bool) {
	newest := int64(-1)
	for range ops {
		switch {
		case undoOnly && newest >= 0 && rng.IntN(3) == 0:
			c.free(newest)
			newest = -1
		case !undoOnly && rng.IntN(3) == 0 && len(c.live) > 0:
			off, _ := c.randomLive(rng)
			c.free(off)
		default:
			size := 1 + rng.Int64N(maxSize)
			if off, ok := c.alloc(size, int64(1)<<rng.IntN(8)); ok {
				newest = off
			}
		}
		c.verify()
	}
}

func TestAllocatorsAgainstModel(t *testing.T) {
	for name, mk := range map[string]func() (alloc.Allocator, int64, bool){
		"slab": func() (alloc.Allocator, int64, bool) {
			s, err := alloc.NewSlab(1<<20, &alloc.SlabOptions{SpanSize: 64 << 10})
			must(t, err)
			return s, 4096, false
		},
		"buddy": func() (alloc.Allocator, int64, bool) {
			b, err := alloc.NewBuddy(1<<20+3*64, 64) // not a power of two
			must(t, err)
			return b, 1 << 16, false
		},
		"arena": func() (alloc.Allocator, int64, bool) {
			a, err := alloc.NewArena(1 << 20)
			must(t, err)
			return a, 4096, true
		},
	} {
		t.Run(name, func(t *testing.T) {
			a, maxSize, lifo := mk()
			c := newChecker(t, a)
			c.run(rand.New(rand.NewPCG(1, 7)), 3000, maxSize, lifo)
			a.Reset()
			c.live, c.sum = map[int64]int64{}, 0
			c.verify()
		})
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// FuzzSlabOperations runs fuzzer-chosen allocation sequences through the
// model checker.
func FuzzSlabOperations(f *testing.F) {
	f.Add([]byte{1, 2, 3, 200, 4, 0, 9, 255})
	f.Add([]byte{0, 0, 0, 0, 255, 255, 1})
	f.Fuzz(func(t *testing.T, program []byte) {
		s, err := alloc.NewSlab(1<<16, &alloc.SlabOptions{SpanSize: 4096, MaxSize: 1024})
		must(t, err)
		newChecker(t, s).runProgram(program, 9, 6)
	})
}

// runProgram interprets each byte of program as an operation: odd bytes free
// a live allocation, even ones allocate (op/2)·scale+1 bytes aligned to
// 2^(op mod alignings). The invariants are checked after each.
func (c *checker) runProgram(program []byte, scale int64, alignings byte) {
	for _, op := range program {
		if op&1 == 1 && len(c.live) > 0 {
			for off := range c.live {
				c.free(off)
				break
			}
		} else {
			c.alloc(int64(op>>1)*scale+1, int64(1)<<(op%alignings))
		}
		c.verify()
	}
}

// FuzzBuddyOperations is FuzzSlabOperations for the buddy allocator, whose
// coalescing is the part most worth fuzzing.
func FuzzBuddyOperations(f *testing.F) {
	f.Add([]byte{1, 2, 3, 200, 4, 0, 9, 255})
	f.Add([]byte{254, 254, 1, 1, 2, 2})
	f.Fuzz(func(t *testing.T, program []byte) {
		b, err := alloc.NewBuddy(5000, 16)
		must(t, err)
		c := newChecker(t, b)
		c.runProgram(program, 31, 8)
		for off := range c.live {
			c.free(off)
		}
		if st := b.Stats(); st.LargestFree != 4096 {
			t.Fatalf("after freeing everything the largest free block is %d, want 4096 (coalescing)", st.LargestFree)
		}
	})
}
