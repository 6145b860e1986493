package heap

import (
	"slices"
	"testing"
)

// TestAllocSizeIsTheAllocators: allocSize, which Cost uses to predict an
// entry's room without allocating, agrees with the capacity the runtime
// gives a byte slice: at every size up to 4 KiB, on both sides of every
// size class and of every page up to 1 MiB (and a few beyond), and at sizes spread over the
// rest of the first 160 KiB. The classes and the page rounding above them
// are the allocator's own, not assumed.
func TestAllocSizeIsTheAllocators(t *testing.T) {
	check := func(n int) {
		if got, want := allocSize(n), cap(slices.Grow([]byte(nil), n)); got != want {
			t.Fatalf("allocSize(%d) = %d; the allocator gives %d", n, got, want)
		}
	}
	for n := 1; n <= 4<<10; n++ {
		check(n)
	}
	for _, c := range sizeClasses {
		check(int(c) - 1)
		check(int(c))
		check(int(c) + 1)
	}
	for n := 4 << 10; n <= 160<<10; n += 97 {
		check(n)
	}
	for p := maxSmallAlloc; p <= 1<<20; p += allocPage {
		for _, d := range []int{-1, 0, 1, allocPage / 2} {
			check(p + d)
		}
	}
	for _, n := range []int{4<<20 - 1, 4<<20 + 1, 64<<20 + 1} {
		check(n)
	}
}
