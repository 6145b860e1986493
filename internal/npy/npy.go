// Package npy writes arrays in NumPy's .npy format, version 1.0, so that
// numpy.load reads what tiermem saves or serves.
//
// A file is the magic "\x93NUMPY", the version (1, 0), a little-endian
// uint16 header length, a Python dict literal describing the array, padded
// with spaces and a newline so that the data starts at a multiple of 64
// bytes, then the elements in C (row-major) order. A dict too long for a
// uint16 (thousands of dimensions) is written as version 2.0, whose
// header length is a uint32.
package npy

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strings"
)

// prefix is the magic (6 bytes), the version (2) and the header length:
// 2 bytes in version 1.0, 4 in 2.0.
const prefix, prefix2 = 10, 12

// AppendHeader appends the header of an array whose elements NumPy
// describes as descr (e.g. "<f8") and whose shape is shape; Write checks
// them, AppendHeader writes them as they are.
func AppendHeader(dst []byte, descr string, shape []int) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(dims) == 1 {
		tuple += ","
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, tuple)
	if pad := 63 - (prefix+len(dict))%64; len(dict)+pad+1 <= math.MaxUint16 {
		dst = append(dst, "\x93NUMPY\x01\x00"...)
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(dict)+pad+1))
		return appendDict(dst, dict, pad)
	}
	pad := 63 - (prefix2+len(dict))%64
	dst = append(dst, "\x93NUMPY\x02\x00"...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(dict)+pad+1))
	return appendDict(dst, dict, pad)
}

// appendDict appends the dict, pad spaces and the newline.
func appendDict(dst []byte, dict string, pad int) []byte {
	dst = append(dst, dict...)
	dst = append(dst, strings.Repeat(" ", pad)...)
	return append(dst, '\n')
}

// Write writes the header and then data, the elements' bytes. It returns
// ErrInvalid for a negative dimension, a descr with a quote or backslash, a
// descr whose item size it does not know, or data whose length is not the
// shape's elements times that item size ("<f8": 8 bytes, "<U2": 8). It knows
// a byte order ('<', '>', '=' or '|') followed by b1, i1 … i8, u1 … u8,
// f2 … f16, c8 … c32, SN and VN (N bytes), UN (N UCS-4 code points, 4N
// bytes), or M8 and m8 with an optional [unit] (datetime64 and timedelta64,
// 8 bytes); not objects or structured types.
func Write(w io.Writer, descr string, shape []int, data []byte) error {
	if err := check(descr, shape, len(data)); err != nil {
		return err
	}
	if _, err := w.Write(AppendHeader(nil, descr, shape)); err != nil {
		return err
	}
	_, err := w.Write(data)
	return err
}

// check returns the error of an array Write cannot describe.
func check(descr string, shape []int, n int) error {
	if descr == "" || strings.ContainsAny(descr, "'\"\\\n") {
		return fmt.Errorf("%w: descr %q", ErrInvalid, descr)
	}
	elems := uint64(1)
	for _, d := range shape {
		if d < 0 {
			return fmt.Errorf("%w: shape %v has a negative dimension", ErrInvalid, shape)
		}
		hi, lo := bits.Mul64(elems, uint64(d))
		if hi != 0 {
			return fmt.Errorf("%w: shape %v has more elements than a uint64 counts", ErrInvalid, shape)
		}
		elems = lo
	}
	size, err := itemSize(descr)
	if err != nil {
		return err
	}
	if hi, lo := bits.Mul64(elems, uint64(size)); hi != 0 || lo != uint64(n) {
		return fmt.Errorf("%w: %d bytes of data for shape %v of %s", ErrInvalid, n, shape, descr)
	}
	return nil
}
