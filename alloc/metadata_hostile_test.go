package alloc_test

import (
	"testing"

	"github.com/tiermem/tiermem/alloc"
)

// doc.go: a Slab keeps under 1% metadata in a space of 16 MiB or more with
// spans of 64 KiB or more (1.8% for 1 MiB full of 16-byte slots), a Buddy
// under 1% with blocks of 64 bytes or more (3% with 16-byte blocks). Each is
// measured at its worst: the smallest slots, every one allocated, and the
// smallest space the claim covers.
func TestHostileMetadataOverhead(t *testing.T) {
	for _, c := range []struct {
		minBlock int64
		max      float64
	}{{16, 0.033}, {64, 0.01}} {
		b, err := alloc.NewBuddy(1<<20, c.minBlock)
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := b.Alloc(c.minBlock); err != nil {
				break
			}
		}
		if m := b.Stats().MetadataOverhead; m >= c.max {
			t.Errorf("Buddy(1 MiB, %d-byte blocks), full: metadata = %.2f%% of its space, the doc says under %.1f%%", c.minBlock, 100*m, 100*c.max)
		}
	}
	for _, c := range []struct {
		capacity, span int64
		max            float64
	}{{1 << 20, 0, 0.019}, {16 << 20, 64 << 10, 0.01}} {
		s, err := alloc.NewSlab(c.capacity, &alloc.SlabOptions{SpanSize: c.span})
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := s.Alloc(16); err != nil {
				break
			}
		}
		if m := s.Stats().MetadataOverhead; m >= c.max {
			t.Errorf("Slab(%d bytes, %d-byte spans) full of 16-byte slots: metadata = %.2f%% of its space, the doc says under %.1f%%", c.capacity, s.SpanSize(), 100*m, 100*c.max)
		}
	}
}
