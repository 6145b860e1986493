package record

import (
	"fmt"
	"reflect"
	"unsafe"
)

// Number is the set of element types Slice views.
type Number interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

// Slice returns a slice or array field's elements as a []T that shares the
// record's bytes, with no copy: a field of []float64 read as a []float64. T
// must have the field's element kind and size (a caller bug otherwise: it
// panics). It returns nil for an absent or null field, and ErrUnaligned when
// the elements are not aligned in memory for T (a bundle built with
// Options.Align below 8) or the machine is big-endian. The slice is valid as
// long as the record's bytes; the caller must not modify it.
func Slice[T Number](v View, f Field) ([]T, error) {
	t := reflect.TypeFor[T]()
	k, size := numberKind(t)
	if k.sequence() != f.f.kind && !(f.f.kind == Bytes && k == Uint) || size != f.f.elem {
		panic(fmt.Sprintf("record: field %s is %v of %d-byte elements, not []%v", f.f.name, f.f.kind, f.f.elem, t))
	}
	if !v.value(f, sequenceKinds) {
		return nil, nil
	}
	b := v.span(f.f)
	if len(b) == 0 {
		return []T{}, nil
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	if !hostLittle || uintptr(p)%uintptr(t.Align()) != 0 {
		return nil, fmt.Errorf("%w: field %s", ErrUnaligned, f.f.name)
	}
	return unsafe.Slice((*T)(p), len(b)/int(size)), nil
}

// sequence returns the kind of slices of numbers of kind k.
func (k Kind) sequence() Kind {
	switch k {
	case Int:
		return Ints
	case Uint:
		return Uints
	case Float:
		return Floats
	}
	return Invalid
}
