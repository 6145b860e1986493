package tiermem

import (
	"fmt"
	"math"
	"math/bits"
	"reflect"
	"strings"
	"unsafe"

	"github.com/tiermem/tiermem/internal/header"
)

// DType is the element type of an Array.
type DType uint8

// The element types an Array can hold. Their bytes are in the machine's order
// (little-endian on every platform tiermem runs on).
const (
	Float64 DType = iota + 1
	Float32
	Int64
	Int32
	Int16
	Int8
	Uint64
	Uint32
	Uint16
	Uint8
	Bool
	Complex64
	Complex128
)

var dtypeInfo = [...]struct {
	name string
	size int
	npy  string // NumPy's type string, for SaveTo
}{
	Float64: {"float64", 8, "<f8"}, Float32: {"float32", 4, "<f4"},
	Int64: {"int64", 8, "<i8"}, Int32: {"int32", 4, "<i4"}, Int16: {"int16", 2, "<i2"}, Int8: {"int8", 1, "|i1"},
	Uint64: {"uint64", 8, "<u8"}, Uint32: {"uint32", 4, "<u4"}, Uint16: {"uint16", 2, "<u2"}, Uint8: {"uint8", 1, "|u1"},
	Bool: {"bool", 1, "|b1"}, Complex64: {"complex64", 8, "<c8"}, Complex128: {"complex128", 16, "<c16"},
}

func (d DType) valid() bool { return d >= Float64 && int(d) < len(dtypeInfo) }

// String returns the Go name of the element type, e.g. "float64".
func (d DType) String() string {
	if !d.valid() {
		return fmt.Sprintf("DType(%d)", uint8(d))
	}
	return dtypeInfo[d].name
}

// Size returns the bytes of one element, or 0 for an unknown DType.
func (d DType) Size() int {
	if !d.valid() {
		return 0
	}
	return dtypeInfo[d].size
}

// Array is an n-dimensional array: an element type, a shape (row-major, the
// last dimension varying fastest) and the elements' bytes. An Array made by
// the constructors shares its data with the slice it was made from.
type Array struct {
	DType DType
	Shape []int
	Data  []byte
}

// Len returns the number of elements: the product of the shape.
func (a Array) Len() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// String describes the array, e.g. "float64[1000 1000]".
func (a Array) String() string {
	dims := make([]string, len(a.Shape))
	for i, d := range a.Shape {
		dims[i] = fmt.Sprint(d)
	}
	return fmt.Sprintf("%s[%s]", a.DType, strings.Join(dims, " "))
}

// Validate returns an error wrapping ErrType unless a is an array every
// Store takes and NumPy loads: a known DType, at most 64 dimensions of 0
// to 2^48 each, a byte count that fits in an int64 (counting the
// dimensions that are not 0), and exactly that many bytes of Data.
func (a Array) Validate() error {
	if !a.DType.valid() {
		return fmt.Errorf("%w: unknown dtype %d", ErrType, a.DType)
	}
	if len(a.Shape) > maxRank {
		return fmt.Errorf("%w: %v has %d dimensions (at most %d)", ErrType, a, len(a.Shape), maxRank)
	}
	for _, d := range a.Shape {
		if d < 0 || d > maxDim {
			return fmt.Errorf("%w: %v has a dimension of %d (want 0 to 2^48)", ErrType, a, d)
		}
	}
	want, ok := a.bytes()
	if !ok || want != uint64(len(a.Data)) {
		return fmt.Errorf("%w: %v needs %s bytes of data, has %d", ErrType, a, a.bytesText(), len(a.Data))
	}
	return nil
}

// bytes returns the bytes the shape needs, and false if the element size
// times the dimensions that are not 0 is over 2^63-1: NumPy refuses such a
// shape ("array is too big") even when another dimension is 0, so a
// .npy file of it could not be loaded. Dimensions must be in range.
func (a Array) bytes() (uint64, bool) {
	n, empty := uint64(a.DType.Size()), false
	for _, d := range a.Shape {
		if d == 0 {
			empty = true
			continue
		}
		var ok bool
		if n, ok = mulNoOverflow(n, uint64(d)); !ok || n > math.MaxInt64 {
			return 0, false
		}
	}
	if empty {
		return 0, true
	}
	return n, true
}

// bytesText is bytes for an error message.
func (a Array) bytesText() string {
	if n, ok := a.bytes(); ok {
		return fmt.Sprint(n)
	}
	return "more than 2^63-1 (counting the dimensions that are not 0)"
}

// maxRank and maxDim bound an array's shape, as its header records it.
const (
	maxRank = header.MaxRank
	maxDim  = header.MaxDim
)

// mulNoOverflow returns a×b and whether it fits in 64 bits.
func mulNoOverflow(a, b uint64) (uint64, bool) {
	hi, lo := bits.Mul64(a, b)
	return lo, hi == 0
}

// Element is the set of Go types an Array holds: one per DType, and types
// defined on them (type Celsius float64).
type Element interface {
	~float64 | ~float32 | ~int64 | ~int32 | ~int16 | ~int8 | ~uint64 | ~uint32 | ~uint16 | ~uint8 |
		~bool | ~complex64 | ~complex128
}

// NewArray returns an Array of shape (default: [len(data)]) over data,
// without copying; its DType follows T (float64 → Float64, and so on). A
// shape that does not match len(data) is reported by StoreArray. NewArray
// and Elements serve every dtype, those to come included; the typed
// constructors (Float64Array, ...) and accessors (Float64s, ...) are
// shorthands for the dtypes NumPy users name most, and stay as they are.
func NewArray[T Element](data []T, shape ...int) Array {
	return makeArray(dtypeOf[T](), data, shape)
}

// Elements returns a's elements as a []T over its data (no copy), or an
// error wrapping ErrType if a's dtype is not T's or its data is not aligned
// for T.
func Elements[T Element](a Array) ([]T, error) { return elements[T](a, dtypeOf[T]()) }

// dtypeOf returns the DType of T, by its kind: a type defined on float64 is
// Float64 too.
func dtypeOf[T Element]() DType {
	return dtypeOfKind[reflect.TypeFor[T]().Kind()]
}

var dtypeOfKind = map[reflect.Kind]DType{
	reflect.Float64: Float64, reflect.Float32: Float32, reflect.Int64: Int64, reflect.Int32: Int32,
	reflect.Int16: Int16, reflect.Int8: Int8, reflect.Uint64: Uint64, reflect.Uint32: Uint32,
	reflect.Uint16: Uint16, reflect.Uint8: Uint8, reflect.Bool: Bool, reflect.Complex64: Complex64,
	reflect.Complex128: Complex128,
}

// makeArray views data as an Array without copying; shape defaults to
// [len(data)].
func makeArray[T Element](dtype DType, data []T, shape []int) Array {
	if len(shape) == 0 {
		shape = []int{len(data)}
	}
	var b []byte
	if len(data) > 0 {
		b = unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(data))), len(data)*dtype.Size())
	}
	return Array{DType: dtype, Shape: append([]int(nil), shape...), Data: b}
}

// Float64Array returns an Array of shape (default: [len(data)]) over data,
// without copying. A shape that does not match len(data) is reported by
// StoreArray.
func Float64Array(data []float64, shape ...int) Array { return makeArray(Float64, data, shape) }

// Float32Array is Float64Array for float32.
func Float32Array(data []float32, shape ...int) Array { return makeArray(Float32, data, shape) }

// Int64Array is Float64Array for int64.
func Int64Array(data []int64, shape ...int) Array { return makeArray(Int64, data, shape) }

// Int32Array is Float64Array for int32.
func Int32Array(data []int32, shape ...int) Array { return makeArray(Int32, data, shape) }

// Int16Array is Float64Array for int16.
func Int16Array(data []int16, shape ...int) Array { return makeArray(Int16, data, shape) }

// Int8Array is Float64Array for int8.
func Int8Array(data []int8, shape ...int) Array { return makeArray(Int8, data, shape) }

// Uint64Array is Float64Array for uint64.
func Uint64Array(data []uint64, shape ...int) Array { return makeArray(Uint64, data, shape) }

// Uint32Array is Float64Array for uint32.
func Uint32Array(data []uint32, shape ...int) Array { return makeArray(Uint32, data, shape) }

// Uint16Array is Float64Array for uint16.
func Uint16Array(data []uint16, shape ...int) Array { return makeArray(Uint16, data, shape) }

// Uint8Array is Float64Array for uint8.
func Uint8Array(data []uint8, shape ...int) Array { return makeArray(Uint8, data, shape) }

// BoolArray is Float64Array for bool.
func BoolArray(data []bool, shape ...int) Array { return makeArray(Bool, data, shape) }

// Complex64Array is Float64Array for complex64.
func Complex64Array(data []complex64, shape ...int) Array { return makeArray(Complex64, data, shape) }

// Complex128Array is Float64Array for complex128.
func Complex128Array(data []complex128, shape ...int) Array {
	return makeArray(Complex128, data, shape)
}

// elements returns the array's data as a []T without copying, or an error
// wrapping ErrType if the dtype is not dtype or the data is not aligned for T.
func elements[T Element](a Array, dtype DType) ([]T, error) {
	if a.DType != dtype {
		return nil, fmt.Errorf("%w: %v is not %s", ErrType, a, dtype)
	}
	if len(a.Data) == 0 {
		return []T{}, nil
	}
	var zero T
	p := unsafe.Pointer(unsafe.SliceData(a.Data))
	if uintptr(p)%unsafe.Alignof(zero) != 0 {
		return nil, fmt.Errorf("%w: %v data is not aligned for %s", ErrType, a, dtype)
	}
	return unsafe.Slice((*T)(p), len(a.Data)/int(unsafe.Sizeof(zero))), nil
}

// Float64s returns the elements as a []float64 sharing the array's data (a
// zero-copy typed view), or an error wrapping ErrType for another dtype.
func (a Array) Float64s() ([]float64, error) { return elements[float64](a, Float64) }

// Float32s is Float64s for float32.
func (a Array) Float32s() ([]float32, error) { return elements[float32](a, Float32) }

// Int64s is Float64s for int64.
func (a Array) Int64s() ([]int64, error) { return elements[int64](a, Int64) }

// Int32s is Float64s for int32.
func (a Array) Int32s() ([]int32, error) { return elements[int32](a, Int32) }

// Int16s is Float64s for int16.
func (a Array) Int16s() ([]int16, error) { return elements[int16](a, Int16) }

// Int8s is Float64s for int8.
func (a Array) Int8s() ([]int8, error) { return elements[int8](a, Int8) }

// Uint64s is Float64s for uint64.
func (a Array) Uint64s() ([]uint64, error) { return elements[uint64](a, Uint64) }

// Uint32s is Float64s for uint32.
func (a Array) Uint32s() ([]uint32, error) { return elements[uint32](a, Uint32) }

// Uint16s is Float64s for uint16.
func (a Array) Uint16s() ([]uint16, error) { return elements[uint16](a, Uint16) }

// Uint8s is Float64s for uint8.
func (a Array) Uint8s() ([]uint8, error) { return elements[uint8](a, Uint8) }

// Bools is Float64s for bool.
func (a Array) Bools() ([]bool, error) { return elements[bool](a, Bool) }

// Complex64s is Float64s for complex64.
func (a Array) Complex64s() ([]complex64, error) { return elements[complex64](a, Complex64) }

// Complex128s is Float64s for complex128.
func (a Array) Complex128s() ([]complex128, error) { return elements[complex128](a, Complex128) }

// alignedCopy returns a copy of data in memory aligned for any element type.
func alignedCopy(data []byte) []byte {
	words := make([]complex128, (len(data)+15)/16)
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(words))), len(words)*16)[:len(data)]
	copy(b, data)
	return b
}
