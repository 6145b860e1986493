package tiermem

import (
	"fmt"
	"unsafe"

	"github.com/tiermem/tiermem/internal/header"
)

// StoreArray stores an array: its dtype and shape travel with its data
// through every tier. It returns an error wrapping ErrType if the shape does
// not match the data, and Store's errors otherwise.
func (m *Manager) StoreArray(key string, a Array, opts ...StoreOption) error {
	if err := a.Validate(); err != nil {
		return err
	}
	return m.storeKind(key, a.Data, header.Header{Kind: header.Array, DType: uint8(a.DType), Shape: a.Shape}, opts)
}

// RetrieveArray returns a copy of the array stored under key, its data
// aligned for its element type so that the typed views (Float64s, ...) work.
// It returns an error wrapping ErrType for a value that is not an array.
func (m *Manager) RetrieveArray(key string) (Array, error) {
	return m.RetrieveArrayInto(nil, key)
}

// RetrieveArrayInto is RetrieveArray into buf's memory: the array's data is
// copied into buf[:n] when buf has the capacity and the alignment for its
// element type, and into a new slice otherwise. Passing the last result's
// Data back in as buf makes repeated retrievals one copy each, with no
// allocation; buf's old contents are overwritten either way, also on an
// error.
func (m *Manager) RetrieveArrayInto(buf []byte, key string) (Array, error) {
	var a Array
	err := m.readAppend(key, owned, buf[:0], func(_ *tierState, value []byte, env header.Header) error {
		var err error
		a, _, err = arrayOf(key, value, env)
		return err
	})
	return a, err
}

// RetrieveArrayShared is RetrieveArray that does not copy an array the hot
// tier can share: one whose data is 64 KiB or more, which the hot tier
// never writes again once it is stored (see RetrieveShared). For such an
// array Data is the tier's memory and shared is true: the caller must not
// modify it, and may keep it as long as it likes. Any other array is a
// copy the caller owns, as RetrieveArray returns it, with shared false.
// A server so sends a large array without holding it twice.
func (m *Manager) RetrieveArrayShared(key string) (a Array, shared bool, err error) {
	err = m.readAppend(key, lent, nil, func(t *tierState, value []byte, env header.Header) error {
		got, copied, err := arrayOf(key, value, env)
		a, shared = got, t.lends(len(value)) && !copied
		return err
	})
	return a, shared, err
}

// arrayOf returns the array a value read under key holds, its data copied
// only when it is not aligned for its element type (copied true), or an
// error wrapping ErrType for a value that is no array.
func arrayOf(key string, value []byte, env header.Header) (a Array, copied bool, err error) {
	if env.Kind != header.Array {
		return Array{}, false, fmt.Errorf("%w: %q holds %s, not an array", ErrType, key, env.Kind)
	}
	if copied = !aligned(value, DType(env.DType)); copied {
		value = alignedCopy(value)
	}
	return Array{DType: DType(env.DType), Shape: env.Shape, Data: value}, copied, nil
}

// aligned reports whether data is aligned for elements of dtype.
func aligned(data []byte, dtype DType) bool {
	return len(data) == 0 || uintptr(unsafe.Pointer(unsafe.SliceData(data)))%uintptr(max(min(dtype.Size(), 8), 1)) == 0
}

// ViewArray calls fn with the array stored under key without copying its
// data where the tier allows: the Array and its data are valid only until fn
// returns and must not be modified; fn must not call the Manager. Data that
// a tier does not hold aligned for its element type (small arrays in the warm
// tier) is copied so that the typed views work.
func (m *Manager) ViewArray(key string, fn func(Array) error) error {
	return m.read(key, borrowed, func(_ *tierState, value []byte, env header.Header) error {
		a, _, err := arrayOf(key, value, env)
		if err != nil {
			return err
		}
		return fn(a)
	})
}
