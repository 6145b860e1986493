package tiermem_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/tiermem/tiermem"
)

func TestBadInputIsAClearError(t *testing.T) {
	m := open(t, &tiermem.Options{Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true}, MigrateInterval: -1})
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"empty key", m.Store("", []byte("v")), tiermem.ErrInvalidKey},
		{"huge key", m.Store(strings.Repeat("k", 70000), []byte("v")), tiermem.ErrInvalidKey},
		{"unknown tier", m.Store("k", []byte("v"), tiermem.InTier(tiermem.Tier(9))), tiermem.ErrUnknownTier},
		{"glacier disabled", m.Store("k", []byte("v"), tiermem.InTier(tiermem.Glacier)), tiermem.ErrUnknownTier},
		{"too large for hot", m.Store("k", make([]byte, 2<<20), tiermem.InTier(tiermem.Hot)), tiermem.ErrTooLarge},
		{"too large for every tier", m.Store("k", make([]byte, 70<<20)), tiermem.ErrTooLarge},
		{"bad shape", m.StoreArray("a", tiermem.Float64Array([]float64{1, 2, 3}, 2, 2)), tiermem.ErrType},
		{"move to glacier disabled", m.Move("k", tiermem.Glacier), tiermem.ErrUnknownTier},
		{"glacier packs disabled", glacierPacksErr(m), tiermem.ErrUnknownTier},
		{"retrieve missing", retrieveErr(m, "missing"), tiermem.ErrNotFound},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
	if _, err := tiermem.ParseTier("lukewarm"); !errors.Is(err, tiermem.ErrUnknownTier) {
		t.Errorf("ParseTier(lukewarm) = %v", err)
	}
	if tr, err := tiermem.ParseTier("Warm"); err != nil || tr != tiermem.Warm || tr.String() != "warm" {
		t.Errorf("ParseTier(Warm) = %v, %v", tr, err)
	}
}

func glacierPacksErr(m *tiermem.Manager) error {
	_, err := m.GlacierPacks()
	return err
}

func retrieveErr(m *tiermem.Manager, key string) error {
	_, err := m.Retrieve(key)
	return err
}

func TestUseAfterClose(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 1 << 20}})
	must(t, err)
	must(t, m.Store("k", []byte("v")))
	must(t, m.Close())
	for name, err := range map[string]error{
		"Store": m.Store("k", []byte("v")), "Retrieve": retrieveErr(m, "k"), "Delete": m.Delete("k"),
		"Move": m.Move("k", tiermem.Cold), "Migrate": m.Migrate(), "Clear": m.Clear(), "Close": m.Close(),
	} {
		if !errors.Is(err, tiermem.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
}

func TestBadOptions(t *testing.T) {
	for name, o := range map[string]tiermem.Options{
		"negative size":       {Hot: tiermem.TierOptions{Size: -1}},
		"watermarks swapped":  {HighWatermark: 0.5, LowWatermark: 0.8},
		"unknown durability":  {Durability: 7},
		"hot compression":     {Hot: tiermem.TierOptions{Compress: true}},
		"cold policy, last":   {Cold: tiermem.TierOptions{Policy: tiermem.PolicyLRU}, Glacier: tiermem.GlacierOptions{Disabled: true}},
		"cold demotion, last": {Cold: tiermem.TierOptions{DemoteAfter: time.Hour}, Glacier: tiermem.GlacierOptions{Disabled: true}},
		"cold clock":          {Cold: tiermem.TierOptions{Policy: tiermem.PolicyClock}},
		"disabled and URL":    {Glacier: tiermem.GlacierOptions{Disabled: true, URL: "/tmp/x"}},
		"negative glacier":    {Glacier: tiermem.GlacierOptions{Size: -1}},
		"glacier bad URL":     {Glacier: tiermem.GlacierOptions{URL: "ftp://x/y"}},
		"glacier s3 unlinked": {Glacier: tiermem.GlacierOptions{URL: "s3://bucket/p?endpoint=http://127.0.0.1:1"}},
	} {
		if _, err := tiermem.Open(t.TempDir(), &o); !errors.Is(err, tiermem.ErrOptions) {
			t.Errorf("%s: Open = %v, want ErrOptions", name, err)
		}
	}
}

func TestMoveCopyClear(t *testing.T) {
	m := open(t, nil)
	must(t, m.Store("k", []byte("value"), tiermem.InTier(tiermem.Hot)))
	must(t, m.Copy("k", tiermem.Cold))
	if tierOf(t, m, "k") != tiermem.Hot || m.Usage()[tiermem.Cold].Items != 1 {
		t.Fatalf("after Copy: in %v, cold holds %d", tierOf(t, m, "k"), m.Usage()[tiermem.Cold].Items)
	}
	must(t, m.Move("k", tiermem.Warm))
	u := m.Usage()
	if tierOf(t, m, "k") != tiermem.Warm || u[tiermem.Hot].Items+u[tiermem.Cold].Items != 0 {
		t.Fatalf("after Move to warm: in %v, usage %+v", tierOf(t, m, "k"), u)
	}
	must(t, m.Move("k", tiermem.Hot))
	if s := m.Stats(); s.Tiers[tiermem.Hot].Promotions != 1 || s.Tiers[tiermem.Hot].Demotions != 1 {
		t.Errorf("moves counted: %+v", s.Tiers)
	}
	if err := m.Move("missing", tiermem.Cold); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("Move of a missing key = %v", err)
	}
	must(t, m.Store("other", []byte("x"), tiermem.InTier(tiermem.Cold)))
	must(t, m.Clear())
	u = m.Usage()
	if u[tiermem.Hot].Items+u[tiermem.Warm].Items+u[tiermem.Cold].Items != 0 {
		t.Errorf("after Clear: %+v", u)
	}
}

func TestSaveToWritesBytesAndNPY(t *testing.T) {
	m := open(t, nil)
	dir := t.TempDir()
	must(t, m.Store("raw", []byte("raw bytes"), tiermem.InTier(tiermem.Warm)))
	must(t, m.SaveTo("raw", filepath.Join(dir, "raw")))
	if got, _ := os.ReadFile(filepath.Join(dir, "raw")); string(got) != "raw bytes" {
		t.Errorf("saved bytes %q", got)
	}
	must(t, m.StoreArray("a", tiermem.Int32Array([]int32{1, 2, 3, 4, 5, 6}, 3, 2), tiermem.InTier(tiermem.Cold)))
	must(t, m.SaveTo("a", filepath.Join(dir, "a.npy")))
	data, err := os.ReadFile(filepath.Join(dir, "a.npy"))
	must(t, err)
	headerLen := int(binary.LittleEndian.Uint16(data[8:10]))
	header := string(data[10 : 10+headerLen])
	if !bytes.HasPrefix(data, []byte("\x93NUMPY\x01\x00")) || (10+headerLen)%64 != 0 ||
		!strings.Contains(header, "'descr': '<i4'") || !strings.Contains(header, "'shape': (3, 2)") {
		t.Errorf("npy header %q", header)
	}
	if body := data[10+headerLen:]; len(body) != 24 || binary.LittleEndian.Uint32(body[20:]) != 6 {
		t.Errorf("npy body % x", body)
	}
	if s := m.Stats(); s.Tiers[tiermem.Cold].Promotions+s.Tiers[tiermem.Warm].Promotions != 0 {
		t.Error("SaveTo counted as a read")
	}
}

func TestArraysKeepDTypeAndShapeThroughEveryTier(t *testing.T) {
	m := open(t, nil)
	cases := map[string]tiermem.Array{
		"f64": tiermem.Float64Array([]float64{1.5, math.Inf(-1), 3}, 3, 1),
		"f32": tiermem.Float32Array([]float32{1, 2}, 2),
		"i16": tiermem.Int16Array([]int16{-1, 7, 8, 9}, 2, 2),
		"u8":  tiermem.Uint8Array([]uint8{1, 2, 3}),
		"b":   tiermem.BoolArray([]bool{true, false}),
		"c":   tiermem.Complex128Array([]complex128{complex(1, -1)}),
	}
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		for name, a := range cases {
			key := name + "-" + tr.String()
			must(t, m.StoreArray(key, a, tiermem.InTier(tr)))
			got, err := m.RetrieveArray(key)
			must(t, err)
			if got.String() != a.String() || !bytes.Equal(got.Data, a.Data) {
				t.Errorf("%s: %v, want %v", key, got, a)
			}
			must(t, m.ViewArray(key, func(v tiermem.Array) error {
				if v.String() != a.String() || !bytes.Equal(v.Data, a.Data) {
					t.Errorf("%s: view %v", key, v)
				}
				return nil
			}))
		}
	}
	got, err := m.RetrieveArray("f64-warm")
	must(t, err)
	f, err := got.Float64s()
	if err != nil || f[0] != 1.5 || !math.IsInf(f[1], -1) {
		t.Errorf("Float64s = %v, %v", f, err)
	}
	if _, err := got.Int64s(); !errors.Is(err, tiermem.ErrType) {
		t.Errorf("Int64s of a float64 array = %v", err)
	}
	must(t, m.Store("bytes", []byte("x")))
	if _, err := m.RetrieveArray("bytes"); !errors.Is(err, tiermem.ErrType) {
		t.Errorf("RetrieveArray of bytes = %v", err)
	}
}

func TestRetrieveArrayIntoReusesTheBuffer(t *testing.T) {
	m := open(t, nil)
	a := tiermem.Float64Array([]float64{1, 2, 3, 4}, 2, 2)
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		key := "a-" + tr.String()
		must(t, m.StoreArray(key, a, tiermem.InTier(tr)))
		words := make([]float64, 8) // aligned for float64, room for two arrays
		buf := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), 64)
		got, err := m.RetrieveArrayInto(buf, key)
		must(t, err)
		if got.String() != a.String() || !bytes.Equal(got.Data, a.Data) {
			t.Errorf("%s: %v %v, want %v", key, got, got.Data, a)
		}
		if &got.Data[0] != &buf[0] {
			t.Errorf("%s: a buffer with room was not used", key)
		}
		small, err := m.RetrieveArrayInto(make([]byte, 0, 8), key)
		must(t, err)
		if !bytes.Equal(small.Data, a.Data) {
			t.Errorf("%s: into a small buffer: %v", key, small.Data)
		}
		odd, err := m.RetrieveArrayInto(buf[1:], key) // room, but not aligned for float64
		must(t, err)
		if xs, err := odd.Float64s(); err != nil || xs[3] != 4 {
			t.Errorf("%s: into an unaligned buffer: %v, %v", key, xs, err)
		}
	}
	must(t, m.Store("bytes", []byte("x")))
	if _, err := m.RetrieveArrayInto(nil, "bytes"); !errors.Is(err, tiermem.ErrType) {
		t.Errorf("RetrieveArrayInto of bytes = %v", err)
	}
	if _, err := m.RetrieveArrayInto(nil, "missing"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("RetrieveArrayInto of a missing key = %v", err)
	}
}

type point struct{ X, Y int }

// version implements encoding.BinaryMarshaler: the codec fast path.
type version [2]uint16

func (v *version) MarshalBinary() ([]byte, error) {
	return binary.LittleEndian.AppendUint16(binary.LittleEndian.AppendUint16(nil, v[0]), v[1]), nil
}

func (v *version) UnmarshalBinary(b []byte) error {
	if len(b) != 4 {
		return fmt.Errorf("version: %d bytes", len(b))
	}
	v[0], v[1] = binary.LittleEndian.Uint16(b), binary.LittleEndian.Uint16(b[2:])
	return nil
}

func TestGoValuesThroughCodecs(t *testing.T) {
	m := open(t, nil)
	must(t, tiermem.Put(m, "p", point{3, 4}, tiermem.InTier(tiermem.Cold)))
	p, err := tiermem.Get[point](m, "p")
	if err != nil || p != (point{3, 4}) {
		t.Errorf("Get[point] = %v, %v", p, err)
	}
	must(t, tiermem.Put(m, "v", version{1, 26}))
	v, err := tiermem.Get[version](m, "v")
	if err != nil || v != (version{1, 26}) {
		t.Errorf("Get[version] = %v, %v", v, err)
	}
	if _, err := tiermem.Get[version](m, "p"); !errors.Is(err, tiermem.ErrType) {
		t.Errorf("Get with another codec = %v", err)
	}
	if _, err := tiermem.Get[point](m, "missing"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("Get of a missing key = %v", err)
	}
}

// TestConcurrentOperations runs every kind of operation on a small key set
// from several goroutines: under -race this checks the locking, and the
// invariants at the end check that no value was torn or lost.
func TestConcurrentOperations(t *testing.T) {
	m := open(t, nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 300 {
				key := fmt.Sprint("k", (g*7+i)%20)
				value := bytes.Repeat([]byte{byte(i)}, 1000+i*100)
				switch i % 6 {
				case 0, 1:
					if err := m.Store(key, value, tiermem.InTier(tiermem.Tier(i%3))); err != nil {
						t.Error(err)
					}
				case 2:
					if got, err := m.Retrieve(key); err == nil && !uniform(got) {
						t.Errorf("%s: a torn value", key)
					}
				case 3:
					m.Move(key, tiermem.Tier((i+g)%3))
				case 4:
					m.Delete(key)
				case 5:
					m.Migrate()
				}
			}
		})
	}
	wg.Wait()
	for i := range 20 {
		key := fmt.Sprint("k", i)
		if got, err := m.Retrieve(key); err == nil && !uniform(got) {
			t.Errorf("%s: a torn value", key)
		}
	}
	u := m.Usage()
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		if u[tr].Used > u[tr].Capacity {
			t.Errorf("%v over budget: %+v", tr, u[tr])
		}
	}
	if total := u[tiermem.Hot].Items + u[tiermem.Warm].Items + u[tiermem.Cold].Items; total > 20 {
		t.Errorf("%d copies of 20 keys: a key is in two tiers", total)
	}
}

func uniform(b []byte) bool {
	for _, c := range b {
		if c != b[0] {
			return false
		}
	}
	return true
}

func TestSecondOpenOfADirectoryFails(t *testing.T) {
	dir := t.TempDir()
	o := &tiermem.Options{Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 1 << 20},
		Cold: tiermem.TierOptions{Size: 1 << 20}, MigrateInterval: -1}
	m, err := tiermem.Open(dir, o)
	must(t, err)
	defer m.Close()
	if m2, err := tiermem.Open(dir, o); err == nil {
		m2.Close()
		t.Fatal("a second Manager opened the same directory")
	} else if !strings.Contains(err.Error(), "cold tier") {
		t.Errorf("the error does not say what failed: %v", err)
	}
}

// TestNewArrayFollowsTheElementType: the generic constructor picks the dtype
// from T, and Elements refuses another type.
func TestNewArrayFollowsTheElementType(t *testing.T) {
	type id uint16
	for _, c := range []struct {
		a    tiermem.Array
		want tiermem.DType
	}{
		{tiermem.NewArray([]float64{1}), tiermem.Float64}, {tiermem.NewArray([]id{1, 2}), tiermem.Uint16},
		{tiermem.NewArray([]bool{true}), tiermem.Bool}, {tiermem.NewArray([]complex128{1i}), tiermem.Complex128},
		{tiermem.NewArray([]int8{1, 2, 3, 4}, 2, 2), tiermem.Int8},
	} {
		if c.a.DType != c.want {
			t.Errorf("NewArray gave %v, want %v", c.a.DType, c.want)
		}
	}
	if _, err := tiermem.Elements[int64](tiermem.NewArray([]float32{1})); !errors.Is(err, tiermem.ErrType) {
		t.Errorf("Elements[int64] of a float32 array = %v, want ErrType", err)
	}
}

// TestOpenErrorsWrapSentinels: a directory another Manager holds is
// ErrInUse, and a Go value gob cannot encode is ErrType.
func TestOpenErrorsWrapSentinels(t *testing.T) {
	dir := t.TempDir()
	m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1})
	must(t, err)
	defer m.Close()
	if _, err := tiermem.Open(dir, nil); !errors.Is(err, tiermem.ErrInUse) {
		t.Errorf("a second Open of %s = %v, want ErrInUse", dir, err)
	}
	if err := tiermem.Put(m, "f", func() {}); !errors.Is(err, tiermem.ErrType) {
		t.Errorf("Put of a func = %v, want ErrType", err)
	}
}

// TestArrayShapesNumPyCannotLoadAreRefused: a shape whose dimensions
// other than 0 multiply (with the element size) past 2^63-1 is ErrType,
// even when a 0 dimension makes it empty: NumPy refuses to load such a
// .npy ("array is too big"), so the array could not leave as one.
func TestArrayShapesNumPyCannotLoadAreRefused(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{MigrateInterval: -1})
	must(t, err)
	defer m.Close()
	for _, c := range []struct {
		shape []int
		ok    bool
	}{
		{[]int{0, 1 << 48, 1 << 48}, false},
		{[]int{1 << 40, 0, 1 << 20}, false}, // 2^60 × 8 bytes
		{[]int{0, 1 << 30, 1 << 29}, true},  // 2^59 × 8 bytes
		{[]int{0}, true},
	} {
		err := m.StoreArray("a", tiermem.Array{DType: tiermem.Float64, Shape: c.shape})
		if c.ok && err != nil || !c.ok && !errors.Is(err, tiermem.ErrType) {
			t.Errorf("StoreArray of an empty Float64 array of shape %v: %v", c.shape, err)
		}
	}
}

// ExampleArray_Validate checks an array before it is stored or sent: its
// shape must account for its data exactly.
func ExampleArray_Validate() {
	good := tiermem.Float32Array([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	bad := tiermem.Array{DType: tiermem.Float32, Shape: []int{2, 4}, Data: good.Data}
	fmt.Println(good, good.Validate())
	fmt.Println(bad, errors.Is(bad.Validate(), tiermem.ErrType))
	// Output:
	// float32[2 3] <nil>
	// float32[2 4] true
}
