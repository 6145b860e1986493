package alloc

import "errors"

var (
	// ErrNoSpace is returned when the space has no room left for an
	// allocation of the requested size (and alignment).
	ErrNoSpace = errors.New("alloc: no space left")

	// ErrTooLarge is returned when a size (or alignment) exceeds what the
	// allocator can ever hand out, however empty it is.
	ErrTooLarge = errors.New("alloc: size too large for this allocator")

	// ErrInvalidSize is returned for a size of zero or less, an alignment that
	// is not a power of two, or options that cannot describe a space.
	ErrInvalidSize = errors.New("alloc: invalid size or alignment")

	// ErrDoubleFree is returned by Free of an allocation already freed.
	ErrDoubleFree = errors.New("alloc: double free")

	// ErrNotAllocated is returned by Free of an offset the allocator never
	// handed out, or with a size other than the one allocated.
	ErrNotAllocated = errors.New("alloc: free of an offset that was not allocated")

	// ErrArenaFree is returned by Arena.Free of anything but the latest
	// allocation: an arena frees everything at once, with Reset.
	ErrArenaFree = errors.New("alloc: an arena frees only its latest allocation; use Reset")
)
