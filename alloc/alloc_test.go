package alloc_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/tiermem/tiermem/alloc"
	"github.com/tiermem/tiermem/memory"
)

func TestClassSizes(t *testing.T) {
	const span, maxSize = 1 << 20, 64 << 10
	sizes := alloc.ClassSizes(span, maxSize)
	if len(sizes) > 255 || sizes[0] != 16 || sizes[len(sizes)-1] < maxSize {
		t.Fatalf("%d classes from %d to %d", len(sizes), sizes[0], sizes[len(sizes)-1])
	}
	for i, size := range sizes {
		if size%16 != 0 {
			t.Errorf("class %d is not a multiple of 16", size)
		}
		if i > 0 && size <= sizes[i-1] {
			t.Errorf("classes not increasing at %d: %d after %d", i, size, sizes[i-1])
		}
		if i > 0 && sizes[i-1] >= 256 && float64(size)/float64(sizes[i-1]) > 1.07 {
			t.Errorf("class %d is %.1f%% above %d", size, 100*(float64(size)/float64(sizes[i-1])-1), sizes[i-1])
		}
		if tail := span % size; float64(tail) > 0.02*span {
			t.Errorf("class %d wastes %d bytes at the end of each span", size, tail)
		}
	}
}

func TestSlabDivisionByMultiplicationIsExact(t *testing.T) {
	s, err := alloc.NewSlab(1<<21, &alloc.SlabOptions{SpanSize: 1 << 20, MaxSize: 1 << 20})
	must(t, err)
	// Allocate every slot of a few classes and free each: a wrong division
	// would make Free refuse a slot it handed out.
	for _, size := range []int64{16, 48, 80, 1000, 4096, 30000, 1 << 20} {
		var offs []int64
		for {
			off, err := s.Alloc(size)
			if err != nil {
				break
			}
			offs = append(offs, off)
		}
		for _, off := range offs {
			if err := s.Free(off, size); err != nil {
				t.Fatalf("size %d: Free(%d): %v", size, off, err)
			}
		}
	}
}

func TestSlabErrors(t *testing.T) {
	s, err := alloc.NewSlab(1<<20, &alloc.SlabOptions{SpanSize: 64 << 10})
	must(t, err)
	if _, err := s.Alloc(0); !errors.Is(err, alloc.ErrInvalidSize) {
		t.Errorf("Alloc(0) = %v", err)
	}
	if _, err := s.Alloc(s.MaxSize() + 1); !errors.Is(err, alloc.ErrTooLarge) {
		t.Errorf("Alloc(max+1) = %v", err)
	}
	if _, err := s.AllocAligned(100, 3); !errors.Is(err, alloc.ErrInvalidSize) {
		t.Errorf("alignment 3 = %v", err)
	}
	off, err := s.Alloc(100)
	must(t, err)
	for name, c := range map[string]struct{ off, size int64 }{
		"inside a slot":   {off + 16, 100},
		"other class":     {off, 200},
		"never used span": {512 << 10, 100},
		"past the end":    {1 << 20, 100},
		"negative":        {-16, 100},
	} {
		if err := s.Free(c.off, c.size); !errors.Is(err, alloc.ErrNotAllocated) {
			t.Errorf("%s: Free = %v, want ErrNotAllocated", name, err)
		}
	}
	must(t, s.Free(off, 100))
	if err := s.Free(off, 100); !errors.Is(err, alloc.ErrDoubleFree) {
		t.Errorf("double free = %v", err)
	}
	if st := s.Stats(); st.FailedAllocs != 3 || st.Allocs != 1 || st.Frees != 1 {
		t.Errorf("stats %+v", st)
	}
	if _, err := alloc.NewSlab(1000, nil); !errors.Is(err, alloc.ErrInvalidSize) {
		t.Errorf("slab smaller than a span = %v", err)
	}
	if _, err := alloc.NewSlab(1<<30, &alloc.SlabOptions{SpanSize: 1 << 24, MaxSize: 2 << 20}); !errors.Is(err, alloc.ErrInvalidSize) {
		t.Errorf("MaxSize over 1 MiB = %v", err)
	}
	for _, span := range []int64{4096, 1 << 20, 1 << 31} {
		if n := len(alloc.ClassSizes(span, min(span, 1<<20))); n > 255 {
			t.Errorf("span %d: %d classes do not fit the class index", span, n)
		}
	}
}

// TestSlabBoundedAndReusesSpans fills the slab with one class, frees it all
// and fills it with another: spans move between classes.
func TestSlabBoundedAndReusesSpans(t *testing.T) {
	s, err := alloc.NewSlab(1<<20, &alloc.SlabOptions{SpanSize: 64 << 10})
	must(t, err)
	fill := func(size int64) []int64 {
		var offs []int64
		for {
			off, err := s.Alloc(size)
			if errors.Is(err, alloc.ErrNoSpace) {
				return offs
			}
			must(t, err)
			offs = append(offs, off)
		}
	}
	small := fill(64)
	if want := (1 << 20) / 64; len(small) != want {
		t.Fatalf("%d allocations of 64 bytes in 1 MiB, want %d", len(small), want)
	}
	for _, off := range small {
		must(t, s.Free(off, 64))
	}
	big := fill(4096)
	if len(big) < 250 {
		t.Fatalf("after freeing, only %d allocations of 4 KiB fit in 1 MiB", len(big))
	}
	if st := s.Stats(); st.ExternalFragmentation > 0.01 && st.FreeBytes > 0 {
		t.Errorf("external fragmentation %.3f with one class", st.ExternalFragmentation)
	}
}

func TestBuddyCoalesces(t *testing.T) {
	b, err := alloc.NewBuddy(1<<20, 64)
	must(t, err)
	var offs []int64
	for {
		off, err := b.Alloc(100)
		if err != nil {
			break
		}
		offs = append(offs, off)
	}
	if len(offs) != (1<<20)/128 || b.BlockSize(100) != 128 {
		t.Fatalf("%d blocks of 128 bytes in 1 MiB", len(offs))
	}
	for _, off := range offs {
		must(t, b.Free(off, 100))
	}
	if _, err := b.Alloc(1 << 20); err != nil {
		t.Fatalf("after freeing everything the whole space is not one block again: %v", err)
	}
	if _, err := b.Alloc(1); !errors.Is(err, alloc.ErrNoSpace) {
		t.Errorf("Alloc on a full buddy = %v", err)
	}
	if _, err := b.Alloc(2 << 20); !errors.Is(err, alloc.ErrTooLarge) {
		t.Errorf("Alloc over capacity = %v", err)
	}
}

func TestArenaNeverMovesAndFreesLIFO(t *testing.T) {
	a, err := alloc.NewArena(1000)
	must(t, err)
	first, _ := a.Alloc(10)
	second, _ := a.AllocAligned(10, 64)
	if first != 0 || second != 64 {
		t.Fatalf("offsets %d, %d; want 0, 64", first, second)
	}
	if err := a.Free(first, 10); !errors.Is(err, alloc.ErrArenaFree) {
		t.Errorf("free of an earlier allocation = %v", err)
	}
	must(t, a.Free(second, 10))
	if err := a.Free(first, 10); !errors.Is(err, alloc.ErrArenaFree) {
		t.Errorf("a second undo = %v, want ErrArenaFree", err)
	}
	third, _ := a.Alloc(10)
	if third != 16 {
		t.Errorf("after undoing the latest, the next allocation is at %d, want 16", third)
	}
	if _, err := a.Alloc(2000); !errors.Is(err, alloc.ErrTooLarge) {
		t.Errorf("allocation over capacity = %v", err)
	}
	if _, err := a.Alloc(990); !errors.Is(err, alloc.ErrNoSpace) {
		t.Errorf("allocation past the end = %v", err)
	}
	a.Reset()
	if off, _ := a.Alloc(5); off != 0 || a.Used() != 5 {
		t.Errorf("after Reset the arena starts at %d with %d used", off, a.Used())
	}
}

func TestRegionsOverOffHeapMemory(t *testing.T) {
	h, err := memory.Allocate(4 << 20)
	must(t, err)
	defer h.Close()
	slab, err := alloc.NewSlab(4<<20, &alloc.SlabOptions{SpanSize: 16 << 10})
	must(t, err)
	r, err := alloc.NewRegions(h.Writable(), slab)
	must(t, err)
	var regions []memory.WritableMemory
	for i := range 100 {
		m, err := r.Alloc(int64(8 + i*8))
		must(t, err)
		m.Fill(0, m.Size(), byte(i))
		regions = append(regions, m)
	}
	for i, m := range regions {
		for off := int64(0); off < m.Size(); off++ {
			if m.GetUint8(off) != byte(i) {
				t.Fatalf("region %d was overwritten by another", i)
			}
		}
		must(t, r.Free(m))
	}
	if err := r.Free(memory.Wrap(make([]byte, 8))); !errors.Is(err, alloc.ErrNotAllocated) {
		t.Errorf("free of a region of other memory = %v", err)
	}
	if _, err := alloc.NewRegions(memory.Wrap(make([]byte, 10)), slab); !errors.Is(err, alloc.ErrInvalidSize) {
		t.Errorf("allocator bigger than the memory = %v", err)
	}
}

func TestSynchronizedUnderRace(t *testing.T) {
	s, err := alloc.NewSlab(64<<20, nil)
	must(t, err)
	a := alloc.Synchronized(s)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				size := int64(16 + (g*i)%4000)
				off, err := a.Alloc(size)
				if err != nil {
					t.Error(err)
					return
				}
				if err := a.Free(off, size); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if st := a.Stats(); st.LiveAllocation != 0 || st.Allocs != 8000 {
		t.Errorf("stats after concurrent use: %+v", st)
	}
}

func TestPoolResets(t *testing.T) {
	p := alloc.NewPool(func() *[]byte { b := make([]byte, 0, 64); return &b }, func(b *[]byte) { *b = (*b)[:0] })
	b := p.Get()
	*b = append(*b, "data"...)
	p.Put(b)
	if got := p.Get(); len(*got) != 0 || cap(*got) < 64 {
		t.Errorf("Get returned len %d cap %d", len(*got), cap(*got))
	}
}

func TestSlabReportsReleasedSpans(t *testing.T) {
	var released []int64
	s, err := alloc.NewSlab(1<<20, &alloc.SlabOptions{SpanSize: 64 << 10, Released: func(off, size int64) {
		if size != 64<<10 {
			t.Errorf("released %d bytes, want a span", size)
		}
		released = append(released, off)
	}})
	must(t, err)
	var offs []int64
	for range 40 { // 64 KiB spans of 4 KiB slots hold 16: three spans
		off, err := s.Alloc(4096)
		must(t, err)
		offs = append(offs, off)
	}
	for _, off := range offs {
		must(t, s.Free(off, 4096))
	}
	if len(released) != 2 { // the class keeps one empty span
		t.Errorf("%d spans released, want 2", len(released))
	}
}
