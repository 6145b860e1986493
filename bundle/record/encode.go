package record

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"unsafe"
)

var le = binary.LittleEndian

// Append appends the record of v, a value of the schema's type or a pointer
// to one, to dst and returns the extended slice. For views of numeric slices
// in place, the record must start at a multiple of 8 in memory: bundles align
// values to 8 by default.
func (s *Schema) Append(dst []byte, v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && rv.Type().Elem() == s.t && !rv.IsNil() {
		rv = rv.Elem()
	}
	if !rv.IsValid() || rv.Type() != s.t {
		return dst, fmt.Errorf("%w: %T for a schema of %v", ErrType, v, s.t)
	}
	if !rv.CanAddr() { // arrays are copied through their address
		p := reflect.New(s.t)
		p.Elem().Set(rv)
		rv = p.Elem()
	}
	return s.appendValue(dst, rv)
}

// appendValue appends the record of the struct rv.
func (s *Schema) appendValue(dst []byte, rv reflect.Value) ([]byte, error) {
	start := len(dst)
	dst = append(dst, make([]byte, s.fixedEnd+2*s.bitmap)...)
	le.PutUint16(dst[start+4:], uint16(len(s.fields)))
	le.PutUint16(dst[start+6:], uint16(s.fixedEnd))
	var err error
	for _, f := range s.fields {
		if dst, err = s.appendField(dst, start, f, rv.Field(f.index)); err != nil {
			return dst[:start], err
		}
	}
	size := len(dst) - start
	if uint64(size) > maxRecord { // uint64: maxRecord overflows a 32-bit int
		return dst[:start], fmt.Errorf("%w: %d bytes", ErrTooLarge, size)
	}
	le.PutUint32(dst[start:], uint32(size))
	return dst, nil
}

// setBit sets bit i of the bitmap at offset at of the record at start.
func setBit(dst []byte, at uint32, i int) { dst[at+uint32(i/8)] |= 1 << (i % 8) }

// appendField writes field f of value fv into the record that starts at start.
func (s *Schema) appendField(dst []byte, start int, f *field, fv reflect.Value) ([]byte, error) {
	present, nulls := uint32(start)+s.fixedEnd, uint32(start)+s.fixedEnd+s.bitmap
	if f.omitempty && fv.IsZero() {
		return dst, nil
	}
	setBit(dst, present, f.i)
	if f.ptr {
		if fv.IsNil() {
			setBit(dst, nulls, f.i)
			return dst, nil
		}
		fv = fv.Elem()
	}
	if fv.Kind() == reflect.Slice && fv.IsNil() {
		setBit(dst, nulls, f.i)
		return dst, nil
	}
	slot := dst[start+int(f.off):][:f.slot]
	switch f.kind {
	case Bool, Int, Uint, Float:
		putNumber(slot, f.kind, f.elem, fv)
	case String:
		return appendRef(dst, start, slot, 1, []byte(fv.String()), uint32(fv.Len()))
	case Bytes, Ints, Uints, Floats:
		if f.isArray {
			copy(slot, numberBytes(fv, f))
			return dst, nil
		}
		return appendRef(dst, start, slot, uint32(f.elem), numberBytes(fv, f), uint32(fv.Len()))
	case Struct:
		at := alignUp(uint32(len(dst)-start), recAlign)
		dst = append(dst, make([]byte, at-uint32(len(dst)-start))...)
		end, err := f.sub.appendValue(dst, fv)
		if err != nil {
			return dst, err
		}
		le.PutUint32(end[start+int(f.off):], at)
		le.PutUint32(end[start+int(f.off)+4:], uint32(len(end)-start)-at)
		return end, nil
	}
	return dst, nil
}

// appendRef appends data at a multiple of align in the var part and points
// the slot at it, with length n.
func appendRef(dst []byte, start int, slot []byte, align uint32, data []byte, n uint32) ([]byte, error) {
	at := alignUp(uint32(len(dst)-start), align)
	if uint64(at)+uint64(len(data)) > maxRecord {
		return dst, fmt.Errorf("%w: over %d bytes", ErrTooLarge, uint64(maxRecord))
	}
	le.PutUint32(slot, at)
	le.PutUint32(slot[4:], n)
	dst = append(dst, make([]byte, at-uint32(len(dst)-start))...)
	return append(dst, data...), nil
}

// putNumber writes a bool or number in size bytes.
func putNumber(b []byte, k Kind, size uint8, v reflect.Value) {
	var x uint64
	switch k {
	case Bool:
		if v.Bool() {
			x = 1
		}
	case Int:
		x = uint64(v.Int())
	case Uint:
		x = v.Uint()
	case Float:
		x = math.Float64bits(v.Float())
		if size == 4 {
			x = uint64(math.Float32bits(float32(v.Float())))
		}
	}
	putUint(b, size, x)
}

func putUint(b []byte, size uint8, x uint64) {
	switch size {
	case 1:
		b[0] = uint8(x)
	case 2:
		le.PutUint16(b, uint16(x))
	case 4:
		le.PutUint32(b, uint32(x))
	default:
		le.PutUint64(b, x)
	}
}

// numberBytes returns the stored bytes of a slice or an addressable array of
// numbers: its own memory when that is already the stored form, else a copy
// converted element by element.
func numberBytes(v reflect.Value, f *field) []byte {
	n := v.Len()
	if n == 0 {
		return nil
	}
	if hostLittle && uintptr(f.elem) == f.elemType.Size() {
		if v.Kind() == reflect.Array {
			v = v.Slice(0, n)
		}
		return unsafe.Slice((*byte)(v.UnsafePointer()), n*int(f.elem))
	}
	out := make([]byte, n*int(f.elem))
	for i := range n {
		putNumber(out[i*int(f.elem):], f.kind.element(), f.elem, v.Index(i))
	}
	return out
}

// element returns the kind of the elements of a sequence kind.
func (k Kind) element() Kind {
	switch k {
	case Ints:
		return Int
	case Floats:
		return Float
	}
	return Uint
}

// hostLittle is true on little-endian machines, whose numbers in memory are
// already in the stored form.
var hostLittle = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()
