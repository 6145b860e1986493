package record_test

import (
	"encoding/json"
	"testing"

	"github.com/tiermem/tiermem/bundle/record"
)

// benchProduct is a typical record: numbers, a string, a slice.
func benchProduct() Product {
	return Product{SKU: 12345, Name: "waterproof hiking boots", Price: 89.5, Sizes: []int32{38, 39, 40, 41, 42, 43}, Origin: &Place{"PT"}}
}

// BenchmarkViewRead re-points a View at a record and reads three fields in
// place: the cost of using a record stored in a bundle.
func BenchmarkViewRead(b *testing.B) {
	s, _ := record.For[Product]()
	rec, _ := s.Append(make([]byte, 0, 256), benchProduct())
	v := s.NewView()
	name, price, sizes := s.MustField("Name"), s.MustField("Price"), s.MustField("Sizes")
	b.ReportAllocs()
	b.SetBytes(int64(len(rec)))
	var sink float64
	for b.Loop() {
		if err := v.Point(rec); err != nil {
			b.Fatal(err)
		}
		sink += v.Float(price) + float64(len(v.String(name))) + float64(v.IntAt(sizes, 2))
	}
	_ = sink
}

// BenchmarkDecode decodes the whole record into a struct (a copy).
func BenchmarkDecode(b *testing.B) {
	s, _ := record.For[Product]()
	rec, _ := s.Append(nil, benchProduct())
	var p Product
	b.ReportAllocs()
	b.SetBytes(int64(len(rec)))
	for b.Loop() {
		if err := s.Decode(rec, &p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJSONUnmarshal is the baseline: the same struct stored as JSON and
// deserialized before use.
func BenchmarkJSONUnmarshal(b *testing.B) {
	rec, _ := json.Marshal(benchProduct())
	var p Product
	b.ReportAllocs()
	b.SetBytes(int64(len(rec)))
	for b.Loop() {
		if err := json.Unmarshal(rec, &p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppend encodes a record, as a builder does for each value.
func BenchmarkAppend(b *testing.B) {
	s, _ := record.For[Product]()
	p := benchProduct()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = s.Append(buf[:0], &p); err != nil {
			b.Fatal(err)
		}
	}
}
