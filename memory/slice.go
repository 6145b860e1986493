package memory

import (
	"fmt"
	"unsafe"
)

// Numeric is the set of fixed-size numeric types that Slice views memory as.
type Numeric interface{ fixed }

// Slice returns the count values of type T that start at off as a Go slice
// sharing the memory, without copying: indexing it is plain slice indexing,
// for loops that must run at full speed over off-heap or mapped data. The
// slice is valid until the memory's owner closes it; using it after that is
// undefined, unlike accesses through the view. The view must be in the host's
// byte order and off must be aligned for T (the view's own offset included);
// otherwise Slice returns an error. On a Memory the caller must not write
// through the slice.
func Slice[T Numeric](m Memory, off, count int64) ([]T, error) {
	var zero T
	size := int64(unsafe.Sizeof(zero))
	if m.swap {
		return nil, fmt.Errorf("memory: a %s view cannot be sliced as %T on a %s machine", m.Order(), zero, nativeOrder)
	}
	if count < 0 || count > m.size/size {
		panic(&AccessError{Op: "slice", Offset: off, Length: count * size, Capacity: m.size, Err: ErrOutOfRange})
	}
	p := m.check("slice", off, count*size)
	if p == nil {
		return []T{}, nil
	}
	if uintptr(p)%unsafe.Alignof(zero) != 0 {
		return nil, fmt.Errorf("memory: offset %d is not aligned for %T", m.off+off, zero)
	}
	return unsafe.Slice((*T)(p), count), nil
}
