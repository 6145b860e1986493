package record

import (
	"fmt"
	"reflect"
	"strings"
)

// Kind is what a field holds, as a View reads it.
type Kind uint8

const (
	Invalid Kind = iota
	Bool         // bool
	Int          // int, int8 … int64
	Uint         // uint, uint8 … uint64
	Float        // float32, float64
	String       // string
	Bytes        // []byte, [N]byte
	Ints         // slices and arrays of signed integers
	Uints        // slices and arrays of unsigned integers (but bytes)
	Floats       // slices and arrays of floats
	Struct       // a nested struct
)

var kindNames = [...]string{"invalid", "bool", "int", "uint", "float", "string", "bytes", "ints", "uints", "floats", "struct"}

// String returns the kind's name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Sizes of the layout.
const (
	headerSize = 8 // size uint32, fields uint16, fixedEnd uint16
	refSlot    = 8 // offset uint32 + length uint32
	refAlign   = 4
	recAlign   = 8 // nested records start at a multiple of 8
	maxFields  = 1<<16 - 1
	maxFixed   = 1<<16 - 1 // fixedEnd is a uint16
	maxRecord  = 1<<32 - 1
	wordInt    = 8 // int and uint are stored in 8 bytes on every platform
)

// Schema is the layout of the records of one struct type. It is immutable
// and safe for concurrent use.
type Schema struct {
	t        reflect.Type
	fields   []*field
	byName   map[string]*field
	fixedEnd uint32 // end of the fixed part: where the bitmaps start
	bitmap   uint32 // bytes of one bitmap
}

// field is one field of a schema and its place in the fixed part.
type field struct {
	name      string
	i         int   // position among the schema's fields
	index     int   // index of the Go struct field
	kind      Kind  // what it holds
	ptr       bool  // the Go field is a pointer
	omitempty bool  // absent when zero
	elem      uint8 // size of a number or of an array's or slice's element
	isArray   bool  // an [N]T array, stored inline
	array     int   // its length N
	off       uint32
	slot      uint32  // bytes of the slot in the fixed part
	align     uint32  // alignment of the slot
	sub       *Schema // for Struct
	elemType  reflect.Type
}

// Field is a handle on one field of a schema, resolved once by name and then
// passed to a View's getters. The zero Field is invalid.
type Field struct{ f *field }

// Name returns the field's name (the struct field's, or its tag's).
func (f Field) Name() string { return f.f.name }

// Kind returns what the field holds.
func (f Field) Kind() Kind { return f.f.kind }

// Schema returns the schema of a nested struct field, or nil.
func (f Field) Schema() *Schema { return f.f.sub }

// For returns the schema of the struct type T.
func For[T any]() (*Schema, error) { return New(reflect.TypeFor[T]()) }

// New returns the schema of struct type t.
func New(t reflect.Type) (*Schema, error) { return newSchema(t, map[reflect.Type]bool{}) }

// newSchema derives a schema; building holds the struct types being derived,
// to refuse recursive types.
func newSchema(t reflect.Type, building map[reflect.Type]bool) (*Schema, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%w: %v is not a struct", ErrUnsupported, t)
	}
	if building[t] {
		return nil, fmt.Errorf("%w: %v contains itself", ErrUnsupported, t)
	}
	building[t] = true
	defer delete(building, t)
	s := &Schema{t: t, byName: map[string]*field{}}
	off := uint32(headerSize)
	for i := range t.NumField() {
		f, err := newField(t.Field(i), building)
		if err != nil || f == nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		f.i, f.index = len(s.fields), i
		off = alignUp(off, f.align)
		f.off, off = off, off+f.slot
		s.fields = append(s.fields, f)
		s.byName[f.name] = f
	}
	if len(s.fields) > maxFields || off > maxFixed {
		return nil, fmt.Errorf("%w: %v has %d fields in %d bytes", ErrTooLarge, t, len(s.fields), off)
	}
	s.fixedEnd, s.bitmap = off, uint32(len(s.fields)+7)/8
	return s, nil
}

// newField derives one field, or returns nil for a field to skip.
func newField(sf reflect.StructField, building map[reflect.Type]bool) (*field, error) {
	name, opts, _ := strings.Cut(sf.Tag.Get("record"), ",")
	if !sf.IsExported() || name == "-" {
		return nil, nil
	}
	if name == "" {
		name = sf.Name
	}
	f := &field{name: name, omitempty: opts == "omitempty"}
	t := sf.Type
	if t.Kind() == reflect.Pointer {
		f.ptr, t = true, t.Elem()
	}
	if err := f.setType(t, building); err != nil {
		return nil, fmt.Errorf("%w: field %s: %v", ErrUnsupported, sf.Name, err)
	}
	return f, nil
}

// setType sets the kind, sizes and slot of a field of Go type t.
func (f *field) setType(t reflect.Type, building map[reflect.Type]bool) error {
	if k, size := numberKind(t); k != Invalid {
		f.kind, f.elem, f.slot, f.align = k, size, uint32(size), uint32(size)
		return nil
	}
	f.slot, f.align = refSlot, refAlign
	switch t.Kind() {
	case reflect.String:
		f.kind = String
	case reflect.Slice, reflect.Array:
		return f.setSequence(t)
	case reflect.Struct:
		sub, err := newSchema(t, building)
		if err != nil {
			return err
		}
		f.kind, f.sub = Struct, sub
	default:
		return fmt.Errorf("type %v", t)
	}
	return nil
}

// setSequence sets up a slice or an array of numbers or bytes.
func (f *field) setSequence(t reflect.Type) error {
	k, size := numberKind(t.Elem())
	switch {
	case k == Uint && size == 1 && t.Elem().Kind() == reflect.Uint8:
		f.kind = Bytes
	case k == Int:
		f.kind = Ints
	case k == Uint:
		f.kind = Uints
	case k == Float:
		f.kind = Floats
	default:
		return fmt.Errorf("type %v", t)
	}
	f.elem, f.elemType = size, t.Elem()
	if t.Kind() == reflect.Array {
		f.isArray, f.array = true, t.Len()
		f.slot, f.align = uint32(t.Len())*uint32(size), uint32(size)
	}
	return nil
}

// numberKind returns the kind and stored size of a bool or number type.
func numberKind(t reflect.Type) (Kind, uint8) {
	switch t.Kind() {
	case reflect.Bool:
		return Bool, 1
	case reflect.Int:
		return Int, wordInt
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return Int, uint8(t.Size())
	case reflect.Uint:
		return Uint, wordInt
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return Uint, uint8(t.Size())
	case reflect.Float32, reflect.Float64:
		return Float, uint8(t.Size())
	}
	return Invalid, 0
}

func alignUp(x, a uint32) uint32 { return (x + a - 1) &^ (a - 1) }

// Type returns the struct type of the schema.
func (s *Schema) Type() reflect.Type { return s.t }

// Fields returns the schema's fields in layout order.
func (s *Schema) Fields() []Field {
	out := make([]Field, len(s.fields))
	for i, f := range s.fields {
		out[i] = Field{f}
	}
	return out
}

// Field returns the field called name (its struct field name, or its tag).
func (s *Schema) Field(name string) (Field, bool) {
	f, ok := s.byName[name]
	return Field{f}, ok
}

// MustField is Field for names known to exist; it panics otherwise, a
// caller bug like a misspelt struct field.
func (s *Schema) MustField(name string) Field {
	f, ok := s.byName[name]
	if !ok {
		panic(fmt.Sprintf("record: %v has no field %q", s.t, name))
	}
	return Field{f}
}
