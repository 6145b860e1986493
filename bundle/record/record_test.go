package record_test

import (
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/bundle/record"
)

type Address struct {
	Street string
	Zip    uint32
}

// Everything has a field of each supported kind.
type Everything struct {
	Flag     bool
	I8       int8
	I16      int16
	I32      int32
	I64      int64
	I        int
	U8       uint8
	U16      uint16
	U32      uint32
	U64      uint64
	U        uint
	F32      float32
	F64      float64
	Name     string
	Blob     []byte
	Hash     [4]byte
	Ints     []int32
	Wide     []int
	Uints    []uint16
	Floats   []float64
	Vec      [3]float32
	Home     Address
	Work     *Address
	Maybe    *int64
	Nick     *string
	Skip     string `record:"-"`
	Renamed  int16  `record:"alias"`
	Optional string `record:",omitempty"`
	hidden   int
}

func sample() Everything {
	n := int64(-9)
	nick := "Bo"
	return Everything{
		Flag: true, I8: -8, I16: -16, I32: -32, I64: math.MinInt64, I: math.MinInt,
		U8: 8, U16: 16, U32: 32, U64: math.MaxUint64, U: math.MaxUint, F32: 1.5, F64: math.Pi,
		Name: "héllo", Blob: []byte{0, 1, 2}, Hash: [4]byte{9, 8, 7, 6},
		Ints: []int32{-1, 2, -3}, Wide: []int{math.MaxInt}, Uints: []uint16{65535}, Floats: []float64{0.5, -0.25},
		Vec: [3]float32{1, 2, 3}, Home: Address{"Main St", 12345}, Work: &Address{Street: "Office"},
		Maybe: &n, Nick: &nick, Renamed: 7, Optional: "set",
	}
}

func schemaOf(t *testing.T) *record.Schema {
	t.Helper()
	s, err := record.For[Everything]()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	s := schemaOf(t)
	tests := []struct {
		name string
		v    Everything
	}{
		{"zero", Everything{}},
		{"sample", sample()},
		{"empty not nil", Everything{Blob: []byte{}, Ints: []int32{}, Floats: []float64{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := s.Append([]byte("prefix"), tt.v)
			if err != nil {
				t.Fatal(err)
			}
			var got Everything
			if err := s.Decode(b[len("prefix"):], &got); err != nil {
				t.Fatal(err)
			}
			want := tt.v
			want.Skip, want.hidden = "", 0
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Decode = %+v\nwant     %+v", got, want)
			}
		})
	}
}

func TestViewReadsEveryKind(t *testing.T) {
	s := schemaOf(t)
	b, _ := s.Append(nil, sample())
	v, err := s.View(b)
	if err != nil {
		t.Fatal(err)
	}
	f := s.MustField
	ints := []struct {
		name string
		want int64
	}{{"I8", -8}, {"I16", -16}, {"I32", -32}, {"I64", math.MinInt64}, {"I", math.MinInt}, {"alias", 7}, {"Maybe", -9}}
	for _, tt := range ints {
		if got := v.Int(f(tt.name)); got != tt.want {
			t.Errorf("Int(%s) = %d, want %d", tt.name, got, tt.want)
		}
	}
	if !v.Bool(f("Flag")) || v.Uint(f("U64")) != math.MaxUint64 || v.Uint(f("U")) != math.MaxUint || v.Float(f("F32")) != 1.5 || v.Float(f("F64")) != math.Pi {
		t.Error("Bool, Uint or Float read a wrong value")
	}
	if v.String(f("Name")) != "héllo" || string(v.Bytes(f("Blob"))) != "\x00\x01\x02" || v.String(f("Nick")) != "Bo" {
		t.Error("String or Bytes read a wrong value")
	}
	if v.Len(f("Hash")) != 4 || v.UintAt(f("Hash"), 0) != 9 || string(v.Bytes(f("Hash"))) != "\x09\x08\x07\x06" {
		t.Error("[4]byte read wrong")
	}
	if v.Len(f("Ints")) != 3 || v.IntAt(f("Ints"), 2) != -3 || v.IntAt(f("Wide"), 0) != math.MaxInt || v.UintAt(f("Uints"), 0) != 65535 {
		t.Error("IntAt or UintAt read a wrong value")
	}
	if v.FloatAt(f("Floats"), 1) != -0.25 || v.Len(f("Vec")) != 3 || v.FloatAt(f("Vec"), 2) != 3 {
		t.Error("FloatAt read a wrong value")
	}
	var home record.View
	if err := v.Struct(f("Home"), &home); err != nil {
		t.Fatal(err)
	}
	addr := home.Schema()
	if home.String(addr.MustField("Street")) != "Main St" || home.Uint(addr.MustField("Zip")) != 12345 {
		t.Error("nested struct read wrong")
	}
	if err := v.Struct(f("Work"), &home); err != nil || home.String(addr.MustField("Street")) != "Office" || home.Uint(addr.MustField("Zip")) != 0 {
		t.Errorf("pointer to struct: %v", err)
	}
	if _, ok := s.Field("Skip"); ok {
		t.Error("a field tagged - is in the schema")
	}
	if _, ok := s.Field("hidden"); ok {
		t.Error("an unexported field is in the schema")
	}
}

func TestPresenceAndNull(t *testing.T) {
	s := schemaOf(t)
	b, _ := s.Append(nil, Everything{Blob: []byte{}}) // Ints nil, Blob empty, pointers nil, Optional omitted
	v, _ := s.View(b)
	f := s.MustField
	tests := []struct {
		field      string
		has, null_ bool
	}{
		{"Ints", true, true}, {"Blob", true, false}, {"Work", true, true}, {"Maybe", true, true},
		{"Optional", false, false}, {"I32", true, false},
	}
	for _, tt := range tests {
		if v.Has(f(tt.field)) != tt.has || v.IsNull(f(tt.field)) != tt.null_ {
			t.Errorf("%s: Has %v IsNull %v; want %v %v", tt.field, v.Has(f(tt.field)), v.IsNull(f(tt.field)), tt.has, tt.null_)
		}
	}
	var sub record.View
	if err := v.Struct(f("Work"), &sub); !errors.Is(err, record.ErrNoValue) {
		t.Fatalf("Struct of a nil pointer: %v, want ErrNoValue", err)
	}
	if v.Int(f("Maybe")) != 0 || v.Len(f("Ints")) != 0 || v.String(f("Optional")) != "" {
		t.Error("null and absent fields must read as zero")
	}
}

// V1 and V2 are two versions of a type: V2 appends fields.
type V1 struct {
	ID   uint64
	Name string
}

type V2 struct {
	ID    uint64
	Name  string
	Score float64
	Tags  []int32
}

func TestAppendedFieldsReadAsAbsent(t *testing.T) {
	s1, _ := record.For[V1]()
	s2, _ := record.For[V2]()
	old, _ := s1.Append(nil, V1{ID: 7, Name: "seven"})
	v, err := s2.View(old)
	if err != nil {
		t.Fatal(err)
	}
	if v.Uint(s2.MustField("ID")) != 7 || v.String(s2.MustField("Name")) != "seven" {
		t.Fatal("the old fields read wrong through the new schema")
	}
	if v.Has(s2.MustField("Score")) || v.Float(s2.MustField("Score")) != 0 || v.Len(s2.MustField("Tags")) != 0 {
		t.Fatal("a field the writer did not have must be absent")
	}
	var got V2
	if err := s2.Decode(old, &got); err != nil || !reflect.DeepEqual(got, V2{ID: 7, Name: "seven"}) {
		t.Fatalf("Decode = %+v, %v", got, err)
	}
}

func TestPointRejectsCorruptRecords(t *testing.T) {
	s := schemaOf(t)
	good, _ := s.Append(nil, sample())
	tests := []struct {
		name   string
		change func(b []byte) []byte
	}{
		{"short", func(b []byte) []byte { return b[:7] }},
		{"size past the end", func(b []byte) []byte { b[0]++; return b }},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }},
		{"fixed part past the end", func(b []byte) []byte { b[6], b[7] = 0xff, 0xff; return b }},
		{"fixed part too short", func(b []byte) []byte { b[6], b[7] = 9, 0; return b }},
		{"string past the end", func(b []byte) []byte { return setLength(b, "héllo", 1<<20) }},
		{"slice past the end", func(b []byte) []byte { return setLength(b, "\x00\x01\x02", 1<<31) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.change(append([]byte(nil), good...))
			if _, err := s.View(b); !errors.Is(err, record.ErrCorrupt) {
				t.Fatalf("View error = %v, want ErrCorrupt", err)
			}
		})
	}
}

// setLength finds the reference slot that points at data in the record b
// and sets its length to n.
func setLength(b []byte, data string, n uint32) []byte {
	off := strings.Index(string(b), data)
	slot := binary.LittleEndian.AppendUint32(nil, uint32(off))
	slot = binary.LittleEndian.AppendUint32(slot, uint32(len(data)))
	i := strings.Index(string(b), string(slot))
	binary.LittleEndian.PutUint32(b[i+4:], n)
	return b
}

func TestWrongKindPanics(t *testing.T) {
	s := schemaOf(t)
	b, _ := s.Append(nil, sample())
	v, _ := s.View(b)
	defer func() {
		if recover() == nil {
			t.Fatal("Float of an int field did not panic")
		}
	}()
	v.Float(s.MustField("I32"))
}

func TestUnsupportedTypes(t *testing.T) {
	tests := []any{
		3,
		struct{ M map[string]int }{},
		struct{ S []string }{},
		struct{ C complex128 }{},
		struct{ P **int }{},
		struct{ A []Address }{},
		Node{},
	}
	for _, v := range tests {
		if _, err := record.New(reflect.TypeOf(v)); !errors.Is(err, record.ErrUnsupported) {
			t.Errorf("New(%T) error = %v, want ErrUnsupported", v, err)
		}
	}
}

// Node contains itself: records cannot hold it.
type Node struct{ Next *Node }

func TestAppendAndDecodeCheckTypes(t *testing.T) {
	s := schemaOf(t)
	if _, err := s.Append(nil, V1{}); !errors.Is(err, record.ErrType) {
		t.Fatalf("Append of another type: %v", err)
	}
	if _, err := s.Append(nil, (*Everything)(nil)); !errors.Is(err, record.ErrType) {
		t.Fatalf("Append of a nil pointer: %v", err)
	}
	b, _ := s.Append(nil, &Everything{I: 1}) // a pointer is fine
	if err := s.Decode(b, Everything{}); !errors.Is(err, record.ErrType) {
		t.Fatalf("Decode into a non-pointer: %v", err)
	}
}

func TestSliceViewsInPlace(t *testing.T) {
	s := schemaOf(t)
	b, _ := s.Append(make([]byte, 0, 1024), sample()) // a fresh slice: 8-aligned
	v, _ := s.View(b)
	fl, err := record.Slice[float64](v, s.MustField("Floats"))
	if err != nil || len(fl) != 2 || fl[1] != -0.25 {
		t.Fatalf("Slice[float64] = %v, %v", fl, err)
	}
	vec, err := record.Slice[float32](v, s.MustField("Vec"))
	if err != nil || len(vec) != 3 || vec[2] != 3 {
		t.Fatalf("Slice[float32] of an array = %v, %v", vec, err)
	}
	if uintptrOf(fl) < uintptrOf(b) || uintptrOf(fl) >= uintptrOf(b)+uintptr(len(b)) {
		t.Fatal("Slice copied instead of viewing the record")
	}
	null, err := record.Slice[int32](mustView(t, s, Everything{}), s.MustField("Ints"))
	if err != nil || null != nil {
		t.Fatalf("Slice of a null field = %v, %v; want nil", null, err)
	}
	shifted := append(make([]byte, 1, 1024), b...)[1:] // the record at an odd address
	w, _ := s.View(shifted)
	if _, err := record.Slice[float64](w, s.MustField("Floats")); !errors.Is(err, record.ErrUnaligned) {
		t.Fatalf("Slice of unaligned elements: %v, want ErrUnaligned", err)
	}
	if w.FloatAt(s.MustField("Floats"), 1) != -0.25 {
		t.Fatal("FloatAt must read unaligned elements")
	}
}

func mustView(t *testing.T, s *record.Schema, v Everything) record.View {
	t.Helper()
	b, err := s.Append(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	view, err := s.View(b)
	if err != nil {
		t.Fatal(err)
	}
	return view
}

func TestPointAllocatesNothing(t *testing.T) {
	s := schemaOf(t)
	a, _ := s.Append(nil, sample())
	b, _ := s.Append(nil, Everything{Name: "other"})
	name, floats := s.MustField("Name"), s.MustField("Floats")
	var v record.View
	v, _ = s.View(a)
	var sink float64
	allocs := testing.AllocsPerRun(100, func() {
		for _, r := range [][]byte{a, b} {
			if err := v.Point(r); err != nil {
				panic(err)
			}
			sink += float64(len(v.String(name)))
			if v.Len(floats) > 0 {
				sink += v.FloatAt(floats, 0)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("Point and reads allocate %v times per run, want 0", allocs)
	}
}
