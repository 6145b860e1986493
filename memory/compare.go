package memory

import (
	"bytes"
	"unsafe"
)

// Compare compares the n bytes of the view at off with the otherN bytes of
// other at otherOff, byte by byte, and returns -1, 0 or +1 as bytes.Compare
// does. Either range out of bounds panics.
func (v view) Compare(off, n int64, other Memory, otherOff, otherN int64) int {
	a := v.check("compare", off, n)
	b := other.check("compare", otherOff, otherN)
	common := min(n, otherN)
	result := 0
	for start := int64(0); start < common && result == 0; start += chunkSize {
		size := min(chunkSize, common-start)
		result = bytes.Compare(unsafe.Slice((*byte)(unsafe.Add(a, start)), size), unsafe.Slice((*byte)(unsafe.Add(b, start)), size))
	}
	switch {
	case result != 0:
		return result
	case n < otherN:
		return -1
	case n > otherN:
		return 1
	}
	return 0
}

// Equal reports whether the view and other have the same size and bytes.
func (v view) Equal(other Memory) bool {
	return v.size == other.size && v.Compare(0, v.size, other, 0, other.size) == 0
}
