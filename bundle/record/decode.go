package record

import (
	"fmt"
	"reflect"
	"unsafe"
)

// Decode fills *out, a pointer to a value of the schema's type, from the
// record b: every field is copied out of b, so out owns its memory. Absent
// fields are set to their zero value, null ones to nil.
func (s *Schema) Decode(b []byte, out any) error {
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Type().Elem() != s.t {
		return fmt.Errorf("%w: %T to decode a %v", ErrType, out, s.t)
	}
	v, err := s.View(b)
	if err != nil {
		return err
	}
	return v.decodeInto(rv.Elem())
}

// decodeInto sets the fields of the struct rv from the record.
func (v *View) decodeInto(rv reflect.Value) error {
	for _, f := range v.s.fields {
		fv := rv.Field(f.index)
		fv.SetZero()
		if !v.has(f) || v.null(f) {
			continue
		}
		if f.ptr {
			fv.Set(reflect.New(fv.Type().Elem()))
			fv = fv.Elem()
		}
		if err := v.decodeField(f, fv); err != nil {
			return err
		}
	}
	return nil
}

// decodeField sets fv from field f, which is present and not null.
func (v *View) decodeField(f *field, fv reflect.Value) error {
	switch f.kind {
	case Bool:
		fv.SetBool(v.b[f.off] != 0)
	case Int:
		fv.SetInt(signExtend(v.number(f.off, f.elem), f.elem))
	case Uint:
		fv.SetUint(v.number(f.off, f.elem))
	case Float:
		fv.SetFloat(toFloat(v.number(f.off, f.elem), f.elem))
	case String:
		fv.SetString(string(v.span(f)))
	case Bytes, Ints, Uints, Floats:
		v.decodeSequence(f, fv)
	case Struct:
		var sub View
		if err := (*v).Struct(Field{f}, &sub); err != nil {
			return err
		}
		return sub.decodeInto(fv)
	}
	return nil
}

// decodeSequence fills a slice (made here) or an array from field f.
func (v *View) decodeSequence(f *field, fv reflect.Value) {
	data := v.span(f)
	n := len(data) / int(f.elem)
	if !f.isArray {
		fv.Set(reflect.MakeSlice(fv.Type(), n, n))
	}
	if n == 0 {
		return
	}
	if hostLittle && uintptr(f.elem) == f.elemType.Size() {
		dst := fv.Slice(0, n)
		copy(unsafe.Slice((*byte)(dst.UnsafePointer()), len(data)), data)
		return
	}
	for i := range n {
		x := v.number(uint32(i*int(f.elem))+spanStart(v, f), f.elem)
		e := fv.Index(i)
		switch f.kind {
		case Ints:
			e.SetInt(signExtend(x, f.elem))
		case Floats:
			e.SetFloat(toFloat(x, f.elem))
		default:
			e.SetUint(x)
		}
	}
}

// spanStart returns the offset of a sequence field's first element.
func spanStart(v *View, f *field) uint32 {
	if f.isArray {
		return f.off
	}
	off, _ := v.ref(f)
	return off
}
