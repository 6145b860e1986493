package record

import (
	"fmt"
	"math"
	"unsafe"
)

// View reads the fields of one record in place. Make one with Schema.View or
// Schema.NewView; re-point it at another record of the same schema with Point, which
// allocates nothing. Its getters take Fields of its schema; a Field of
// another kind than the getter's is a caller bug and panics. Absent fields
// read as zero values. After a successful Point no getter fails: every
// offset the getters follow was checked.
type View struct {
	s       *Schema
	b       []byte // the record
	n       int    // fields the writer's schema had
	present uint32 // offset of the present bitmap
	nulls   uint32 // offset of the null bitmap
}

// View returns a View of the record b, or an error wrapping ErrCorrupt if b is
// not a well-formed record of s.
func (s *Schema) View(b []byte) (View, error) {
	v := View{s: s}
	return v, v.Point(b)
}

// NewView returns a View of s that points at no record (every field absent)
// until Point.
func (s *Schema) NewView() View { return View{s: s} }

// Point re-points v at the record b, of v's schema, checking it. On error v is
// left empty (every field absent). A zero View has no schema: Point on it is
// a caller bug and panics.
func (v *View) Point(b []byte) error {
	if v.s == nil {
		panic("record: Point on a View without a schema: make it with Schema.NewView or Schema.View")
	}
	v.b, v.n = nil, 0
	if len(b) < headerSize {
		return corrupt("%d bytes is shorter than a record header", len(b))
	}
	size := le.Uint32(b)
	n, fixedEnd := uint32(le.Uint16(b[4:])), uint32(le.Uint16(b[6:]))
	bitmap := (n + 7) / 8
	switch {
	case uint64(size) > uint64(len(b)) || size < headerSize:
		return corrupt("record of %d bytes in %d", size, len(b))
	case fixedEnd < headerSize || uint64(fixedEnd)+2*uint64(bitmap) > uint64(size):
		return corrupt("fixed part ends at %d in a record of %d bytes", fixedEnd, size)
	}
	w := View{s: v.s, b: b[:size:size], n: int(n), present: fixedEnd, nulls: fixedEnd + bitmap}
	if err := w.check(fixedEnd); err != nil {
		return err
	}
	*v = w
	return nil
}

// check verifies that every present field of the schema lies in the record.
func (v *View) check(fixedEnd uint32) error {
	for _, f := range v.s.fields {
		if !v.has(f) {
			continue
		}
		if f.off+f.slot > fixedEnd {
			return corrupt("field %s: slot past the fixed part", f.name)
		}
		if f.slot != refSlot || f.isArray || isNumber(f.kind) || v.null(f) {
			continue
		}
		off, n := v.ref(f)
		if size := uint64(n) * uint64(max(f.elem, 1)); uint64(off)+size > uint64(len(v.b)) {
			return corrupt("field %s: %d bytes at %d past the record's %d", f.name, size, off, len(v.b))
		}
	}
	return nil
}

func isNumber(k Kind) bool { return k >= Bool && k <= Float }

func (v *View) has(f *field) bool {
	return f.i < v.n && v.b[v.present+uint32(f.i/8)]&(1<<(f.i%8)) != 0
}

func (v *View) null(f *field) bool {
	return f.i < v.n && v.b[v.nulls+uint32(f.i/8)]&(1<<(f.i%8)) != 0
}

// ref returns the offset and length in a reference slot.
func (v *View) ref(f *field) (off, n uint32) {
	return le.Uint32(v.b[f.off:]), le.Uint32(v.b[f.off+4:])
}

// Record returns the record's bytes: what Point was given, cut to its size.
func (v View) Record() []byte { return v.b }

// Schema returns the View's schema.
func (v View) Schema() *Schema { return v.s }

// Has reports whether field f holds a value in this record (it may be null).
func (v View) Has(f Field) bool { return v.has(f.f) }

// IsNull reports whether field f is a nil pointer or nil slice.
func (v View) IsNull(f Field) bool { return v.has(f.f) && v.null(f.f) }

// kinds is a set of kinds, one bit each.
type kinds uint16

func kindSet(ks ...Kind) kinds {
	var s kinds
	for _, k := range ks {
		s |= 1 << k
	}
	return s
}

var (
	textKinds     = kindSet(String, Bytes)
	sequenceKinds = kindSet(String, Bytes, Ints, Uints, Floats)
)

// value reports whether f holds a non-null value; it panics if f's kind is
// not in ks, a caller bug.
func (v *View) value(f Field, ks kinds) bool {
	if ks&(1<<f.f.kind) == 0 {
		panic(fmt.Sprintf("record: field %s is %v: this getter does not read it", f.f.name, f.f.kind))
	}
	return v.has(f.f) && !v.null(f.f)
}

// number reads the size-byte number at off.
func (v *View) number(off uint32, size uint8) uint64 {
	switch size {
	case 1:
		return uint64(v.b[off])
	case 2:
		return uint64(le.Uint16(v.b[off:]))
	case 4:
		return uint64(le.Uint32(v.b[off:]))
	}
	return le.Uint64(v.b[off:])
}

// Bool returns the value of a bool field.
func (v View) Bool(f Field) bool {
	return v.value(f, 1<<Bool) && v.b[f.f.off] != 0
}

// Int returns the value of a signed integer field.
func (v View) Int(f Field) int64 {
	if !v.value(f, 1<<Int) {
		return 0
	}
	return signExtend(v.number(f.f.off, f.f.elem), f.f.elem)
}

func signExtend(x uint64, size uint8) int64 {
	shift := 64 - 8*uint(size)
	return int64(x<<shift) >> shift
}

// Uint returns the value of an unsigned integer field.
func (v View) Uint(f Field) uint64 {
	if !v.value(f, 1<<Uint) {
		return 0
	}
	return v.number(f.f.off, f.f.elem)
}

// Float returns the value of a float field.
func (v View) Float(f Field) float64 {
	if !v.value(f, 1<<Float) {
		return 0
	}
	return toFloat(v.number(f.f.off, f.f.elem), f.f.elem)
}

func toFloat(x uint64, size uint8) float64 {
	if size == 4 {
		return float64(math.Float32frombits(uint32(x)))
	}
	return math.Float64frombits(x)
}

// span returns the bytes of a string, []byte or numeric field.
func (v *View) span(f *field) []byte {
	if f.isArray {
		return v.b[f.off : f.off+f.slot : f.off+f.slot]
	}
	off, n := v.ref(f)
	end := off + n*uint32(f.elem)
	if f.kind == String {
		end = off + n
	}
	return v.b[off:end:end]
}

// String returns a string or []byte field as a string that shares the
// record's bytes (no copy): it is valid as long as they are.
func (v View) String(f Field) string {
	if !v.value(f, textKinds) {
		return ""
	}
	b := v.span(f.f)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// Bytes returns a string or []byte field's bytes, sharing the record's.
// The caller must not modify them.
func (v View) Bytes(f Field) []byte {
	if !v.value(f, textKinds) {
		return nil
	}
	return v.span(f.f)
}

// Len returns the number of elements of a slice or array field (bytes for a
// string or []byte).
func (v View) Len(f Field) int {
	if !v.value(f, sequenceKinds) {
		return 0
	}
	if f.f.isArray {
		return f.f.array
	}
	_, n := v.ref(f.f)
	return int(n)
}

// at returns the offset of element i of a sequence field, panicking like a
// slice index out of range.
func (v *View) at(f Field, i int, k Kind) uint32 {
	if n := v.Len(f); f.f.kind != k || i < 0 || i >= n {
		panic(fmt.Sprintf("record: element %d of %v field %s of length %d", i, f.f.kind, f.f.name, n))
	}
	if f.f.isArray {
		return f.f.off + uint32(i)*uint32(f.f.elem)
	}
	off, _ := v.ref(f.f)
	return off + uint32(i)*uint32(f.f.elem)
}

// IntAt returns element i of a slice or array of signed integers.
func (v View) IntAt(f Field, i int) int64 {
	return signExtend(v.number(v.at(f, i, Ints), f.f.elem), f.f.elem)
}

// UintAt returns element i of a slice or array of unsigned integers or bytes.
func (v View) UintAt(f Field, i int) uint64 {
	k := Uints
	if f.f.kind == Bytes {
		k = Bytes
	}
	return v.number(v.at(f, i, k), f.f.elem)
}

// FloatAt returns element i of a slice or array of floats.
func (v View) FloatAt(f Field, i int) float64 {
	return toFloat(v.number(v.at(f, i, Floats), f.f.elem), f.f.elem)
}

// Struct points dst at the nested record of a struct field, with the field's
// schema, checking it. It returns ErrNoValue if the field is absent or null,
// and an error wrapping ErrCorrupt if the nested record is malformed.
func (v View) Struct(f Field, dst *View) error {
	if !v.value(f, 1<<Struct) {
		*dst = View{s: f.f.sub}
		return fmt.Errorf("%w: %s", ErrNoValue, f.f.name)
	}
	off, n := v.ref(f.f)
	dst.s = f.f.sub
	return dst.Point(v.b[off : off+n : off+n])
}
