package memory

import (
	"math"
	"math/bits"
)

// The primitives below read and write 1, 2, 4 and 8 bytes at an offset, in the
// view's byte order; the typed methods are one-line conversions over them.
// Unaligned loads and stores are fine on every platform Go's mmap runs on.

func (v view) get8(off int64) uint8 { return *(*uint8)(v.at(off, 1)) }

func (v view) get16(off int64) uint16 {
	x := *(*uint16)(v.at(off, 2))
	if v.swap {
		x = bits.ReverseBytes16(x)
	}
	return x
}

func (v view) get32(off int64) uint32 {
	x := *(*uint32)(v.at(off, 4))
	if v.swap {
		x = bits.ReverseBytes32(x)
	}
	return x
}

func (v view) get64(off int64) uint64 {
	p := v.at(off, 8)
	if v.swap {
		return bits.ReverseBytes64(*(*uint64)(p))
	}
	return *(*uint64)(p)
}

func (v view) put8(off int64, x uint8) { *(*uint8)(v.at(off, 1)) = x }

func (v view) put16(off int64, x uint16) {
	if v.swap {
		x = bits.ReverseBytes16(x)
	}
	*(*uint16)(v.at(off, 2)) = x
}

func (v view) put32(off int64, x uint32) {
	if v.swap {
		x = bits.ReverseBytes32(x)
	}
	*(*uint32)(v.at(off, 4)) = x
}

func (v view) put64(off int64, x uint64) {
	if v.swap {
		x = bits.ReverseBytes64(x)
	}
	*(*uint64)(v.at(off, 8)) = x
}

// GetInt8 returns the int8 at off.
func (v view) GetInt8(off int64) int8 { return int8(v.get8(off)) }

// GetUint8 returns the byte at off.
func (v view) GetUint8(off int64) uint8 { return v.get8(off) }

// GetBool returns whether the byte at off is not zero.
func (v view) GetBool(off int64) bool { return v.get8(off) != 0 }

// GetInt16 returns the int16 at off.
func (v view) GetInt16(off int64) int16 { return int16(v.get16(off)) }

// GetUint16 returns the uint16 at off.
func (v view) GetUint16(off int64) uint16 { return v.get16(off) }

// GetInt32 returns the int32 at off.
func (v view) GetInt32(off int64) int32 { return int32(v.get32(off)) }

// GetUint32 returns the uint32 at off.
func (v view) GetUint32(off int64) uint32 { return v.get32(off) }

// GetInt64 returns the int64 at off.
func (v view) GetInt64(off int64) int64 { return int64(v.get64(off)) }

// GetUint64 returns the uint64 at off.
func (v view) GetUint64(off int64) uint64 { return v.get64(off) }

// GetFloat32 returns the IEEE 754 float32 at off.
func (v view) GetFloat32(off int64) float32 { return math.Float32frombits(v.get32(off)) }

// GetFloat64 returns the IEEE 754 float64 at off.
func (v view) GetFloat64(off int64) float64 { return math.Float64frombits(v.get64(off)) }

// GetComplex64 returns the complex64 at off: the real part, then the imaginary part.
func (v view) GetComplex64(off int64) complex64 {
	return complex(v.GetFloat32(off), v.GetFloat32(v.at2(off, 8)+4))
}

// GetComplex128 returns the complex128 at off: the real part, then the imaginary part.
func (v view) GetComplex128(off int64) complex128 {
	return complex(v.GetFloat64(off), v.GetFloat64(v.at2(off, 16)+8))
}

// at2 checks a whole composite value before its parts are read, so that a
// value straddling the end panics before any part is read or written.
func (v view) at2(off, n int64) int64 {
	v.at(off, n)
	return off
}

// PutInt8 writes x at off.
func (w WritableMemory) PutInt8(off int64, x int8) { w.put8(off, uint8(x)) }

// PutUint8 writes the byte x at off.
func (w WritableMemory) PutUint8(off int64, x uint8) { w.put8(off, x) }

// PutBool writes 1 for true and 0 for false at off.
func (w WritableMemory) PutBool(off int64, x bool) { w.put8(off, boolByte(x)) }

// PutInt16 writes x at off.
func (w WritableMemory) PutInt16(off int64, x int16) { w.put16(off, uint16(x)) }

// PutUint16 writes x at off.
func (w WritableMemory) PutUint16(off int64, x uint16) { w.put16(off, x) }

// PutInt32 writes x at off.
func (w WritableMemory) PutInt32(off int64, x int32) { w.put32(off, uint32(x)) }

// PutUint32 writes x at off.
func (w WritableMemory) PutUint32(off int64, x uint32) { w.put32(off, x) }

// PutInt64 writes x at off.
func (w WritableMemory) PutInt64(off int64, x int64) { w.put64(off, uint64(x)) }

// PutUint64 writes x at off.
func (w WritableMemory) PutUint64(off int64, x uint64) { w.put64(off, x) }

// PutFloat32 writes x at off in IEEE 754 format.
func (w WritableMemory) PutFloat32(off int64, x float32) { w.put32(off, math.Float32bits(x)) }

// PutFloat64 writes x at off in IEEE 754 format.
func (w WritableMemory) PutFloat64(off int64, x float64) { w.put64(off, math.Float64bits(x)) }

// PutComplex64 writes the real part of x at off and the imaginary part after it.
func (w WritableMemory) PutComplex64(off int64, x complex64) {
	w.PutFloat32(w.at2(off, 8), real(x))
	w.PutFloat32(off+4, imag(x))
}

// PutComplex128 writes the real part of x at off and the imaginary part after it.
func (w WritableMemory) PutComplex128(off int64, x complex128) {
	w.PutFloat64(w.at2(off, 16), real(x))
	w.PutFloat64(off+8, imag(x))
}

func boolByte(x bool) uint8 {
	if x {
		return 1
	}
	return 0
}
