package alloc_test

import (
	"testing"

	"github.com/tiermem/tiermem/alloc"
)

// A MaxSize that is no multiple of MinAlign takes every size up to it.
func TestSlabMaxSizeOffAlignment(t *testing.T) {
	s, err := alloc.NewSlab(1<<20, &alloc.SlabOptions{SpanSize: 64 << 10, MaxSize: 5000})
	if err != nil {
		t.Fatal(err)
	}
	for size := int64(4980); size <= 5000; size++ {
		if c := s.ClassSize(size); c < size {
			t.Fatalf("ClassSize(%d) = %d", size, c)
		}
		off, err := s.Alloc(size)
		if err != nil {
			t.Fatalf("Alloc(%d): %v", size, err)
		}
		if err := s.Free(off, size); err != nil {
			t.Fatalf("Free(%d): %v", size, err)
		}
	}
}
