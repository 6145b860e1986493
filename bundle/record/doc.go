// Package record lays Go structs out as bytes that a View reads in place:
// the typed records of a bundle. A Schema derived from a struct type fixes
// where each field lives, so reading a field from a record in a mapped bundle
// is a load at a known offset, with no deserialization and no allocation.
//
//	type Point struct {
//		X, Y  float64
//		Label string
//		Tags  []int32
//	}
//	s, _ := record.For[Point]()
//	b, _ := s.Append(nil, Point{1, 2, "origin", []int32{7}}) // store b in a bundle
//	x := s.MustField("X")                                     // resolve fields once
//	v, err := s.View(b)                                        // check the record once
//	fmt.Println(v.Float(x), v.String(s.MustField("Label")))  // read in place
//	err = v.Point(other)                                       // the next record, no allocation
//
// A View is a proxy in the sense of sharedbuffers: it knows where in a
// buffer a record is and turns field reads into loads. It can be re-pointed
// at another record with Point, without allocating.
//
// # Layout
//
// All integers are little-endian. A record is
//
//	size      uint32   bytes of the whole record
//	fields    uint16   number of fields the writer's schema had
//	fixedEnd  uint16   offset of the bitmaps, the end of the fixed part
//	fixed part         one slot per field, in declaration order, each at a
//	                   multiple of its alignment from the record's start
//	present   bitmap   bit i: field i holds a value
//	null      bitmap   bit i: field i is a nil pointer or nil slice
//	var part           strings, slices and nested records, each at a
//	                   multiple of its alignment
//
// Slots: bool and numbers their own size; [N]T arrays N elements inline;
// strings, []byte, numeric slices and nested structs an offset (from the
// record's start) and a length (bytes, or elements for numeric slices), two
// uint32. A nested struct is a whole record of its own.
//
// Fields can be appended to a struct type: a record written before reads the
// new fields as absent (zero). Records carry no type: read them with the
// schema of the type that wrote them, or of one that only appended fields.
//
// # Presence and null
//
// A field is absent when the writer's schema did not have it, or when it is
// tagged `record:",omitempty"` and was the zero value; absent fields read as
// zero values and take no room in the var part. A nil pointer or a nil slice
// is present and null: Decode restores nil, not an empty value.
//
// # Supported fields
//
// bool, int, int8–int64, uint, uint8–uint64, float32, float64, string,
// []byte, slices and arrays of those numbers, [N]byte, structs of supported
// fields, and pointers to any of these. Unexported fields and fields tagged
// `record:"-"` are skipped; other types are refused by For and New with
// ErrUnsupported.
//
// # Lifetimes and concurrency
//
// A Schema is immutable and safe for concurrent use. A View is a small value
// not safe for concurrent re-pointing; copy it to share. Strings and slices a
// View returns share the record's bytes: for a record in a bundle they are
// valid until the bundle is closed.
package record
