package alloc

import "math/bits"

// sizeClass is one allocation size of a Slab and the spans that serve it.
type sizeClass struct {
	cur     *span   // the last partial span, where allocation happens; nil if none
	size    int64   // bytes per slot, a multiple of MinAlign
	perSpan int32   // slots per span
	align   int64   // largest power of two dividing size: every slot is aligned to it
	divMul  uint64  // ⌈2³²/size⌉: slot = (rel·divMul)>>32 for rel < 2³²
	partial []int32 // spans of this class with a free slot; allocation takes the last
}

// classSizes returns the slot sizes of a slab with the given span size:
// every multiple of 16 bytes up to 256, then steps of about 1/16 (so a
// request wastes about 3% on average). Each larger class is the largest
// multiple of 16 that fits its slot count in a span, so spans waste little
// at their end.
func classSizes(spanSize, maxSize int64) []int64 {
	var sizes []int64
	fit := int64(0)
	for fit < min(maxSize, 256) {
		fit += MinAlign
		sizes = append(sizes, fit)
	}
	for fit < maxSize {
		target := fit + fit/16
		for {
			n := (spanSize + target - 1) / target // fewest slots of at most target bytes
			if next := (spanSize / n) &^ (MinAlign - 1); next > fit {
				fit = next
				break
			}
			target += MinAlign
		}
		sizes = append(sizes, fit)
	}
	return sizes
}

func newSizeClass(size, spanSize int64) sizeClass {
	return sizeClass{
		size:    size,
		perSpan: int32(spanSize / size),
		align:   min(int64(1)<<bits.TrailingZeros64(uint64(size)), spanSize),
		divMul:  (1<<32 + uint64(size) - 1) / uint64(size),
	}
}
