package heap

import "slices"

// allocSize returns the bytes the Go allocator gives an allocation of n
// bytes that holds no pointers: n rounded up to its size class up to
// maxSmallAlloc, to whole pages above. It allocates nothing, so that Cost
// can predict the room an entry will hold (TestAllocSizeIsTheAllocators
// compares it with the capacity slices.Grow returns).
func allocSize(n int) int {
	if n > maxSmallAlloc {
		return (n + allocPage - 1) &^ (allocPage - 1)
	}
	i, _ := slices.BinarySearch(sizeClasses, uint32(n))
	return int(sizeClasses[i])
}

// maxSmallAlloc is the largest allocation the Go allocator rounds to a size
// class; a larger one takes whole pages of allocPage bytes.
const (
	maxSmallAlloc = 32 << 10
	allocPage     = 8 << 10
)

// sizeClasses holds the allocator's size classes up to maxSmallAlloc, in
// increasing order, as the runtime reports them: the capacity slices.Grow
// gives a byte slice of n bytes is n's class, so each probe finds one class
// and the next starts one byte past it.
var sizeClasses = probeSizeClasses()

func probeSizeClasses() []uint32 {
	var classes []uint32
	for n := 1; n <= maxSmallAlloc; {
		c := cap(slices.Grow([]byte(nil), n))
		classes = append(classes, uint32(c))
		n = c + 1
	}
	return classes
}
