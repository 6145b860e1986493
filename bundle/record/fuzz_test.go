package record_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/tiermem/tiermem/bundle/record"
)

// FuzzView points a View at arbitrary bytes: it must accept them or return
// ErrCorrupt, and once accepted every getter must work without panicking.
// An accepted record must also decode, and what was decoded must survive an
// encode-decode round trip.
func FuzzView(f *testing.F) {
	s, err := record.For[Everything]()
	if err != nil {
		f.Fatal(err)
	}
	for _, v := range []Everything{{}, sample(), {Blob: []byte{}, Optional: "x"}} {
		b, _ := s.Append(nil, v)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := s.View(b)
		if err != nil {
			if !errors.Is(err, record.ErrCorrupt) {
				t.Fatalf("View error %v is not ErrCorrupt", err)
			}
			return
		}
		readAll(t, v)
		var got, again Everything
		if err := s.Decode(b, &got); err != nil {
			if errors.Is(err, record.ErrCorrupt) {
				return // a nested record is corrupt: Point checks only the outer one
			}
			t.Fatal(err)
		}
		b2, err := s.Append(nil, got)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Decode(b2, &again); err != nil {
			t.Fatal(err)
		}
		// Compare encodings, not values: NaN != NaN.
		if b3, err := s.Append(nil, again); err != nil || !bytes.Equal(b2, b3) {
			t.Fatalf("round trip: %+v\nbecame %+v (%v)", got, again, err)
		}
	})
}

// readAll reads every field of v with the getter of its kind, descending into
// nested records.
func readAll(t *testing.T, v record.View) {
	for _, f := range v.Schema().Fields() {
		v.Has(f)
		v.IsNull(f)
		switch f.Kind() {
		case record.Bool:
			v.Bool(f)
		case record.Int:
			v.Int(f)
		case record.Uint:
			v.Uint(f)
		case record.Float:
			v.Float(f)
		case record.String, record.Bytes:
			v.String(f)
			v.Bytes(f)
		case record.Ints, record.Uints, record.Floats:
			readElements(v, f)
		case record.Struct:
			var sub record.View
			if err := v.Struct(f, &sub); err == nil {
				readAll(t, sub)
			} else if !errors.Is(err, record.ErrCorrupt) && !errors.Is(err, record.ErrNoValue) {
				t.Fatalf("Struct error %v", err)
			}
		}
	}
}

func readElements(v record.View, f record.Field) {
	for i := range v.Len(f) {
		switch f.Kind() {
		case record.Ints:
			v.IntAt(f, i)
		case record.Uints:
			v.UintAt(f, i)
		default:
			v.FloatAt(f, i)
		}
	}
}
