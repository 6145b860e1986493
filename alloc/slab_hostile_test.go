package alloc_test

import (
	"math/rand/v2"
	"testing"

	"github.com/tiermem/tiermem/alloc"
)

// Reset sends every span back to the pool with no slot in use, which is
// exactly when SlabOptions.Released promises a call: an owner that discards
// released spans would otherwise keep the RAM of every span that was in use
// before Reset. Regions.Reset goes through the Slab's.
func TestHostileSlabResetReportsReleasedSpans(t *testing.T) {
	const span = 64 << 10
	released := map[int64]bool{}
	s, err := alloc.NewSlab(1<<20, &alloc.SlabOptions{SpanSize: span, Released: func(off, size int64) {
		if size != span {
			t.Errorf("Released(%d, %d), want a whole span of %d bytes", off, size, span)
		}
		released[off] = true
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(released) != 0 {
		t.Fatalf("NewSlab released spans it never handed out: %v", released)
	}
	used := map[int64]bool{}
	for _, size := range []int64{64, 1024, 4096} { // three classes, a span each
		off, err := s.Alloc(size)
		if err != nil {
			t.Fatal(err)
		}
		used[off&^(span-1)] = true
	}
	s.Reset()
	for sp := range used {
		if !released[sp] {
			t.Errorf("span at %d was in use before Reset and is free after it, but Released was not called for it", sp)
		}
	}
	if len(released) != len(used) {
		t.Errorf("Reset released %d spans, want the %d in use", len(released), len(used))
	}
	clear(released)
	s.Reset() // nothing in use: nothing to release
	if len(released) != 0 {
		t.Errorf("a second Reset released %d spans, want none", len(released))
	}
}

// doc.go: classes are every multiple of 16 bytes up to 256, then about 6%
// apart; a record above 256 bytes wastes under 6% of its slot (about 3% on
// average), a smaller one up to 15 bytes.
func TestHostileSlabInternalFragmentation(t *testing.T) {
	s, err := alloc.NewSlab(1<<30, nil)
	if err != nil {
		t.Fatal(err)
	}
	for size := int64(1); size <= s.MaxSize(); size++ {
		class := s.ClassSize(size)
		waste := class - size
		switch {
		case size <= 256 && waste > 15:
			t.Fatalf("ClassSize(%d) = %d: a record up to 256 bytes wastes up to 15", size, class)
		case size > 256 && float64(waste) >= 0.06*float64(class):
			t.Fatalf("ClassSize(%d) = %d: %.1f%% of the slot wasted, the doc says under 6%%", size, class, 100*float64(waste)/float64(class))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		if _, err := s.Alloc(257 + r.Int64N(s.MaxSize()-256)); err != nil {
			t.Fatal(err)
		}
	}
	if f := s.Stats().InternalFragmentation; f > 0.035 {
		t.Errorf("internal fragmentation of records above 256 bytes = %.1f%%, the doc says about 3%%", 100*f)
	}
}
