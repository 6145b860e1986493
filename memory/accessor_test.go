package memory_test

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/tiermem/tiermem/memory"
)

// TestAccessorsMatchEncodingBinary checks every typed put against the bytes
// encoding/binary writes for the same value and order, and every get back.
func TestAccessorsMatchEncodingBinary(t *testing.T) {
	orders := map[memory.Order]binary.AppendByteOrder{memory.LittleEndian: binary.LittleEndian, memory.BigEndian: binary.BigEndian}
	for name, w := range backings(t, 64) {
		for order, bo := range orders {
			w := w.WithOrder(order)
			t.Run(name+"/"+order.String(), func(t *testing.T) {
				const off = 5 // unaligned on purpose
				check := func(what string, want []byte) {
					t.Helper()
					if got := w.Bytes(off, int64(len(want))); string(got) != string(want) {
						t.Errorf("%s wrote % x, want % x", what, got, want)
					}
				}
				w.PutInt16(off, -2)
				check("PutInt16", bo.AppendUint16(nil, uint16(0xfffe)))
				if got := w.GetInt16(off); got != -2 {
					t.Errorf("GetInt16 = %d", got)
				}
				w.PutUint32(off, 0x01020304)
				check("PutUint32", bo.AppendUint32(nil, 0x01020304))
				if got := w.GetUint32(off); got != 0x01020304 {
					t.Errorf("GetUint32 = %#x", got)
				}
				w.PutInt32(off, math.MinInt32)
				if got := w.GetInt32(off); got != math.MinInt32 {
					t.Errorf("GetInt32 = %d", got)
				}
				w.PutInt64(off, -0x0102030405060708)
				check("PutInt64", bo.AppendUint64(nil, uint64(0xfefdfcfbfaf9f8f8)))
				if got := w.GetInt64(off); got != -0x0102030405060708 {
					t.Errorf("GetInt64 = %d", got)
				}
				w.PutUint64(off, math.MaxUint64-1)
				if got := w.GetUint64(off); got != math.MaxUint64-1 {
					t.Errorf("GetUint64 = %d", got)
				}
				w.PutUint16(off, 0xbeef)
				if got := w.GetUint16(off); got != 0xbeef {
					t.Errorf("GetUint16 = %#x", got)
				}
				w.PutFloat32(off, 3.25)
				check("PutFloat32", bo.AppendUint32(nil, math.Float32bits(3.25)))
				if got := w.GetFloat32(off); got != 3.25 {
					t.Errorf("GetFloat32 = %v", got)
				}
				w.PutFloat64(off, -1e300)
				check("PutFloat64", bo.AppendUint64(nil, math.Float64bits(-1e300)))
				if got := w.GetFloat64(off); got != -1e300 {
					t.Errorf("GetFloat64 = %v", got)
				}
				w.PutComplex64(off, complex(1.5, -2.5))
				check("PutComplex64", bo.AppendUint32(bo.AppendUint32(nil, math.Float32bits(1.5)), math.Float32bits(-2.5)))
				if got := w.GetComplex64(off); got != complex(1.5, -2.5) {
					t.Errorf("GetComplex64 = %v", got)
				}
				w.PutComplex128(off, complex(1e10, -1e-10))
				if got := w.GetComplex128(off); got != complex(1e10, -1e-10) {
					t.Errorf("GetComplex128 = %v", got)
				}
				w.PutInt8(off, -7)
				check("PutInt8", []byte{0xf9})
				if got := w.GetInt8(off); got != -7 {
					t.Errorf("GetInt8 = %d", got)
				}
				if got := w.GetUint8(off); got != 0xf9 {
					t.Errorf("GetUint8 = %d", got)
				}
				w.PutUint8(off, 2)
				if !w.GetBool(off) {
					t.Error("GetBool of a byte 2 = false, want true")
				}
				w.PutBool(off, false)
				check("PutBool", []byte{0})
				w.PutBool(off, true)
				check("PutBool", []byte{1})
			})
		}
	}
}

// TestSeedExample is the example of the DataSketches document: bytes written
// one way are read another, like a C union.
func TestSeedExample(t *testing.T) {
	backing := make([]byte, 16)
	mem := memory.Wrap(backing)
	mem.Clear(0, mem.Size())
	mem.PutUint8(1, 1)
	if v := mem.GetInt32(0); v != 256 {
		t.Errorf("GetInt32(0) = %d, want 256", v)
	}
	backing[9] = 3
	if v := mem.GetInt64(8); v != 768 {
		t.Errorf("GetInt64(8) = %d, want 768", v)
	}
}

func TestArraysRoundTrip(t *testing.T) {
	for name, w := range backings(t, 256) {
		for _, order := range []memory.Order{memory.LittleEndian, memory.BigEndian} {
			w := w.WithOrder(order)
			t.Run(name+"/"+order.String(), func(t *testing.T) {
				i64 := []int64{1, -2, math.MaxInt64, math.MinInt64}
				w.PutInt64s(3, i64)
				for i, want := range i64 {
					if got := w.GetInt64(3 + 8*int64(i)); got != want {
						t.Errorf("element %d = %d, want %d", i, got, want)
					}
				}
				gotI64 := make([]int64, len(i64))
				w.GetInt64s(3, gotI64)
				if !equal(gotI64, i64) {
					t.Errorf("GetInt64s = %v, want %v", gotI64, i64)
				}
				roundTrip(t, w, []int8{-1, 2, 3})
				roundTrip(t, w, []int16{-1, 2, 300})
				roundTrip(t, w, []uint16{1, 2, 65535})
				roundTrip(t, w, []int32{-1, 2, 1 << 30})
				roundTrip(t, w, []uint32{1, 2, 1 << 31})
				roundTrip(t, w, []uint64{1, 2, 1 << 63})
				roundTrip(t, w, []float32{1.5, -2})
				roundTrip(t, w, []float64{1.5, -2, math.Inf(1)})
				roundTrip(t, w, []complex64{complex(1, 2)})
				roundTrip(t, w, []complex128{complex(1, -2), 3})
				roundTrip(t, w, []byte("bytes"))
				w.PutBools(0, []bool{true, false, true})
				w.PutUint8(3, 9)
				bools := make([]bool, 4)
				w.GetBools(0, bools)
				if !equal(bools, []bool{true, false, true, true}) {
					t.Errorf("GetBools = %v", bools)
				}
				var f32 [1]float32
				w.PutFloat32(40, 6.5)
				w.GetFloat32s(40, f32[:])
				if f32[0] != 6.5 {
					t.Errorf("array read of a scalar write = %v, want 6.5", f32[0])
				}
			})
		}
	}
}

// roundTrip writes src as an array, reads it back both as an array and, for
// the first element, as a scalar of the same order.
func roundTrip[T comparable](t *testing.T, w memory.WritableMemory, src []T) {
	t.Helper()
	dst := make([]T, len(src))
	switch s := any(src).(type) {
	case []int8:
		w.PutInt8s(7, s)
		w.GetInt8s(7, any(dst).([]int8))
	case []int16:
		w.PutInt16s(7, s)
		w.GetInt16s(7, any(dst).([]int16))
		if w.GetInt16(7) != s[0] {
			t.Errorf("scalar read of array element = %d", w.GetInt16(7))
		}
	case []uint16:
		w.PutUint16s(7, s)
		w.GetUint16s(7, any(dst).([]uint16))
	case []int32:
		w.PutInt32s(7, s)
		w.GetInt32s(7, any(dst).([]int32))
		if w.GetInt32(7) != s[0] {
			t.Errorf("scalar read of array element = %d", w.GetInt32(7))
		}
	case []uint32:
		w.PutUint32s(7, s)
		w.GetUint32s(7, any(dst).([]uint32))
	case []uint64:
		w.PutUint64s(7, s)
		w.GetUint64s(7, any(dst).([]uint64))
	case []float32:
		w.PutFloat32s(7, s)
		w.GetFloat32s(7, any(dst).([]float32))
	case []float64:
		w.PutFloat64s(7, s)
		w.GetFloat64s(7, any(dst).([]float64))
		if w.GetFloat64(7) != s[0] {
			t.Errorf("scalar read of array element = %v", w.GetFloat64(7))
		}
	case []complex64:
		w.PutComplex64s(7, s)
		w.GetComplex64s(7, any(dst).([]complex64))
		if w.GetComplex64(7) != s[0] {
			t.Errorf("scalar read of array element = %v", w.GetComplex64(7))
		}
	case []complex128:
		w.PutComplex128s(7, s)
		w.GetComplex128s(7, any(dst).([]complex128))
	case []byte:
		w.PutBytes(7, s)
		w.GetBytes(7, any(dst).([]byte))
	default:
		t.Fatalf("no case for %T", src)
	}
	if !equal(dst, src) {
		t.Errorf("%T round trip = %v, want %v", src, dst, src)
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBoundsAreChecked(t *testing.T) {
	w := memory.Wrap(make([]byte, 16))
	cases := map[string]func(){
		"int64 at end":        func() { w.GetInt64(9) },
		"int64 negative":      func() { w.GetInt64(-1) },
		"int64 overflowing":   func() { w.GetInt64(math.MaxInt64 - 3) },
		"put int32 at end":    func() { w.PutInt32(13, 1) },
		"byte past end":       func() { w.GetUint8(16) },
		"complex128 straddle": func() { w.GetComplex128(1) },
		"array past end":      func() { w.GetInt64s(8, make([]int64, 2)) },
		"region past end":     func() { w.Region(8, 9) },
		"region negative":     func() { w.Region(-1, 2) },
		"region size < 0":     func() { w.Region(2, -1) },
		"bytes past end":      func() { w.Bytes(10, 7) },
		"bit past end":        func() { w.SetBit(128) },
		"bit negative":        func() { w.Bit(-1) },
		"fill past end":       func() { w.Fill(1, 16, 0) },
		"hash past end":       func() { w.Hash(15, 2) },
		"zero memory":         func() { memory.Memory{}.GetUint8(0) },
		"copy dst past end": func() {
			memory.Copy(w, 10, w.ReadOnly(), 0, 7)
		},
		"compare other past end": func() { w.Compare(0, 1, w.ReadOnly(), 16, 1) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) { mustPanic(t, memory.ErrOutOfRange, f) })
	}
	// A region's bounds are its own, not its parent's.
	r := w.Region(4, 8)
	mustPanic(t, memory.ErrOutOfRange, func() { r.GetInt64(1) })
	r.PutInt64(0, 7)
	if w.GetInt64(4) != 7 {
		t.Error("region write did not reach the parent at its offset")
	}
}

// TestFailedCompositeWriteWritesNothing: a complex value straddling the end
// panics before its first part is written.
func TestFailedCompositeWriteWritesNothing(t *testing.T) {
	w := memory.Wrap(make([]byte, 16))
	mustPanic(t, memory.ErrOutOfRange, func() { w.PutComplex128(8, complex(1, 1)) })
	if w.GetUint64(8) != 0 {
		t.Error("the real part was written before the bounds check failed")
	}
}
