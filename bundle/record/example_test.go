package record_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"

	"github.com/tiermem/tiermem/bundle"
	"github.com/tiermem/tiermem/bundle/record"
)

type Product struct {
	SKU    uint64
	Name   string
	Price  float64
	Sizes  []int32
	Origin *Place
}

type Place struct {
	Country string
}

// A bundle of typed records: each value is a Product laid out by its schema,
// read in place from the mapping by a View that is re-pointed from record to
// record.
func Example() {
	dir, _ := os.MkdirTemp("", "record-example-")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "products.bundle")

	s, err := record.For[Product]()
	if err != nil {
		panic(err)
	}
	b, _ := bundle.NewBuilder(path, nil) // values aligned to 8: numeric slices view in place
	for _, p := range []Product{
		{SKU: 1, Name: "boots", Price: 89.5, Sizes: []int32{40, 41, 42}, Origin: &Place{"PT"}},
		{SKU: 2, Name: "scarf", Price: 19},
	} {
		rec, _ := s.Append(nil, p)
		b.Add(fmt.Appendf(nil, "sku:%d", p.SKU), rec)
	}
	if _, err := b.Finish(); err != nil {
		panic(err)
	}

	bd, _ := bundle.Open(path)
	defer bd.Close()
	name, price, sizes, origin := s.MustField("Name"), s.MustField("Price"), s.MustField("Sizes"), s.MustField("Origin")
	v, place := s.NewView(), record.View{}
	for _, key := range []string{"sku:1", "sku:2"} {
		raw, _ := bd.Get([]byte(key))
		if err := v.Point(raw); err != nil { // no allocation: v is re-pointed
			panic(err)
		}
		fmt.Printf("%s %.2f %d sizes", v.String(name), v.Float(price), v.Len(sizes))
		if err := v.Struct(origin, &place); err == nil {
			fmt.Printf(" from %s", place.String(place.Schema().MustField("Country")))
		}
		fmt.Println()
	}
	// Output:
	// boots 89.50 3 sizes from PT
	// scarf 19.00 0 sizes
}

func ExampleFor() {
	s, err := record.For[Product]()
	for _, f := range s.Fields() {
		fmt.Print(f.Name(), ":", f.Kind(), " ")
	}
	fmt.Println(err)
	// Output: SKU:uint Name:string Price:float Sizes:ints Origin:struct <nil>
}

func ExampleNew() {
	_, err := record.New(reflect.TypeOf(struct{ M map[string]int }{}))
	fmt.Println(err)
	// Output: record: unsupported type: field M: type map[string]int
}

func ExampleSchema_Append() {
	s, _ := record.For[Place]()
	b, err := s.Append(nil, Place{Country: "AR"})
	fmt.Println(len(b), err)
	// Output: 20 <nil>
}

func ExampleSchema_View() {
	s, _ := record.For[Place]()
	b, _ := s.Append(nil, Place{Country: "AR"})
	v, err := s.View(b)
	fmt.Println(v.String(s.MustField("Country")), err)
	_, err = s.View(b[:10])
	fmt.Println(err)
	// Output:
	// AR <nil>
	// record: corrupt record: record of 20 bytes in 10
}

func ExampleSchema_Decode() {
	s, _ := record.For[Product]()
	b, _ := s.Append(nil, Product{SKU: 7, Name: "hat", Sizes: []int32{1}})
	var p Product
	err := s.Decode(b, &p) // a copy: p owns its memory
	fmt.Println(p.SKU, p.Name, p.Sizes, p.Origin, err)
	// Output: 7 hat [1] <nil> <nil>
}

func ExampleView_Point() {
	s, _ := record.For[Place]()
	a, _ := s.Append(nil, Place{"AR"})
	b, _ := s.Append(nil, Place{"UY"})
	country := s.MustField("Country")
	v, _ := s.View(a)
	fmt.Print(v.String(country), " ")
	v.Point(b) // the same View, another record
	fmt.Println(v.String(country))
	// Output: AR UY
}

func ExampleView_Struct() {
	s, _ := record.For[Product]()
	b, _ := s.Append(nil, Product{Name: "nowhere"})
	v, _ := s.View(b)
	var place record.View
	fmt.Println(v.Struct(s.MustField("Origin"), &place))
	// Output: record: field has no value: Origin
}

func ExampleView_Has() {
	type Opt struct {
		A int64
		B string `record:",omitempty"`
		C *int64
	}
	s, _ := record.For[Opt]()
	b, _ := s.Append(nil, Opt{A: 1})
	v, _ := s.View(b)
	for _, f := range s.Fields() {
		fmt.Print(f.Name(), " has:", v.Has(f), " null:", v.IsNull(f), "; ")
	}
	fmt.Println()
	// Output: A has:true null:false; B has:false null:false; C has:true null:true;
}

func ExampleSlice() {
	type Series struct{ Points []float64 }
	s, _ := record.For[Series]()
	b, _ := s.Append(make([]byte, 0, 64), Series{Points: []float64{1.5, 2.5}})
	v, _ := s.View(b)
	pts, err := record.Slice[float64](v, s.MustField("Points")) // shares b: no copy
	fmt.Println(pts, err)
	// Output: [1.5 2.5] <nil>
}
