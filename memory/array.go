package memory

import (
	"math/bits"
	"unsafe"
)

// fixed is the set of Go types with a fixed size and no pointers that views
// read and write as arrays. bool is handled apart, since any non-zero byte
// must read as true.
type fixed interface {
	~int8 | ~uint8 | ~int16 | ~uint16 | ~int32 | ~uint32 | ~int64 | ~uint64 |
		~float32 | ~float64 | ~complex64 | ~complex128
}

// wordSize is the size of the unit that byte order applies to: a complex
// number's parts are swapped separately.
func wordSize[T fixed]() int64 {
	var zero T
	switch any(zero).(type) {
	case complex64, complex128:
		return int64(unsafe.Sizeof(zero)) / 2
	}
	return int64(unsafe.Sizeof(zero))
}

// asBytes returns the bytes of s without copying.
func asBytes[T fixed](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), uintptr(len(s))*unsafe.Sizeof(s[0]))
}

// getArray copies len(dst) values starting at off into dst.
func getArray[T fixed](v view, off int64, dst []T) {
	b := asBytes(dst)
	p := v.check("array get", off, int64(len(b)))
	if p == nil {
		return
	}
	copyChunked(unsafe.Pointer(unsafe.SliceData(b)), p, int64(len(b)))
	if v.swap {
		swapWords(b, wordSize[T]())
	}
}

// putArray copies the values of src into the memory starting at off.
func putArray[T fixed](v view, off int64, src []T) {
	b := asBytes(src)
	p := v.check("array put", off, int64(len(b)))
	if p == nil {
		return
	}
	copyChunked(p, unsafe.Pointer(unsafe.SliceData(b)), int64(len(b)))
	if v.swap {
		swapWords(unsafe.Slice((*byte)(p), len(b)), wordSize[T]())
	}
}

// swapWords reverses the byte order of each size-byte word of b in place.
func swapWords(b []byte, size int64) {
	switch size {
	case 2:
		for i := 0; i+1 < len(b); i += 2 {
			b[i], b[i+1] = b[i+1], b[i]
		}
	case 4:
		for i := 0; i+3 < len(b); i += 4 {
			p := (*uint32)(unsafe.Pointer(&b[i]))
			*p = bits.ReverseBytes32(*p)
		}
	case 8:
		for i := 0; i+7 < len(b); i += 8 {
			p := (*uint64)(unsafe.Pointer(&b[i]))
			*p = bits.ReverseBytes64(*p)
		}
	}
}

// GetBytes copies len(dst) bytes starting at off into dst.
func (v view) GetBytes(off int64, dst []byte) { getArray(v, off, dst) }

// GetInt8s copies len(dst) int8 values starting at off into dst.
func (v view) GetInt8s(off int64, dst []int8) { getArray(v, off, dst) }

// GetInt16s copies len(dst) int16 values starting at off into dst.
func (v view) GetInt16s(off int64, dst []int16) { getArray(v, off, dst) }

// GetUint16s copies len(dst) uint16 values starting at off into dst.
func (v view) GetUint16s(off int64, dst []uint16) { getArray(v, off, dst) }

// GetInt32s copies len(dst) int32 values starting at off into dst.
func (v view) GetInt32s(off int64, dst []int32) { getArray(v, off, dst) }

// GetUint32s copies len(dst) uint32 values starting at off into dst.
func (v view) GetUint32s(off int64, dst []uint32) { getArray(v, off, dst) }

// GetInt64s copies len(dst) int64 values starting at off into dst.
func (v view) GetInt64s(off int64, dst []int64) { getArray(v, off, dst) }

// GetUint64s copies len(dst) uint64 values starting at off into dst.
func (v view) GetUint64s(off int64, dst []uint64) { getArray(v, off, dst) }

// GetFloat32s copies len(dst) float32 values starting at off into dst.
func (v view) GetFloat32s(off int64, dst []float32) { getArray(v, off, dst) }

// GetFloat64s copies len(dst) float64 values starting at off into dst.
func (v view) GetFloat64s(off int64, dst []float64) { getArray(v, off, dst) }

// GetComplex64s copies len(dst) complex64 values starting at off into dst.
func (v view) GetComplex64s(off int64, dst []complex64) { getArray(v, off, dst) }

// GetComplex128s copies len(dst) complex128 values starting at off into dst.
func (v view) GetComplex128s(off int64, dst []complex128) { getArray(v, off, dst) }

// GetBools reads len(dst) bytes starting at off into dst, a non-zero byte as true.
func (v view) GetBools(off int64, dst []bool) {
	p := v.check("array get", off, int64(len(dst)))
	if p == nil {
		return
	}
	for i, b := range unsafe.Slice((*byte)(p), len(dst)) {
		dst[i] = b != 0
	}
}

// PutBytes copies src into the memory starting at off.
func (w WritableMemory) PutBytes(off int64, src []byte) { putArray(w.view, off, src) }

// PutInt8s copies src into the memory starting at off.
func (w WritableMemory) PutInt8s(off int64, src []int8) { putArray(w.view, off, src) }

// PutInt16s copies src into the memory starting at off.
func (w WritableMemory) PutInt16s(off int64, src []int16) { putArray(w.view, off, src) }

// PutUint16s copies src into the memory starting at off.
func (w WritableMemory) PutUint16s(off int64, src []uint16) { putArray(w.view, off, src) }

// PutInt32s copies src into the memory starting at off.
func (w WritableMemory) PutInt32s(off int64, src []int32) { putArray(w.view, off, src) }

// PutUint32s copies src into the memory starting at off.
func (w WritableMemory) PutUint32s(off int64, src []uint32) { putArray(w.view, off, src) }

// PutInt64s copies src into the memory starting at off.
func (w WritableMemory) PutInt64s(off int64, src []int64) { putArray(w.view, off, src) }

// PutUint64s copies src into the memory starting at off.
func (w WritableMemory) PutUint64s(off int64, src []uint64) { putArray(w.view, off, src) }

// PutFloat32s copies src into the memory starting at off.
func (w WritableMemory) PutFloat32s(off int64, src []float32) { putArray(w.view, off, src) }

// PutFloat64s copies src into the memory starting at off.
func (w WritableMemory) PutFloat64s(off int64, src []float64) { putArray(w.view, off, src) }

// PutComplex64s copies src into the memory starting at off.
func (w WritableMemory) PutComplex64s(off int64, src []complex64) { putArray(w.view, off, src) }

// PutComplex128s copies src into the memory starting at off.
func (w WritableMemory) PutComplex128s(off int64, src []complex128) { putArray(w.view, off, src) }

// PutBools writes src starting at off, one byte each: 1 for true, 0 for false.
func (w WritableMemory) PutBools(off int64, src []bool) {
	p := w.check("array put", off, int64(len(src)))
	if p == nil {
		return
	}
	for i, x := range src {
		*(*byte)(unsafe.Add(p, i)) = boolByte(x)
	}
}
