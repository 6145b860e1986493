// Package npy writes arrays in NumPy's .npy format, version 1.0, so that
// numpy.load reads what tiermem saves or serves.
//
// A file is the magic "\x93NUMPY", the version (1, 0), a little-endian
// uint16 header length, a Python dict literal describing the array, padded
// with spaces and a newline so that the data starts at a multiple of 64
// bytes, then the elements in C (row-major) order.
package npy

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// prefix is the magic (6 bytes), the version (2) and the header length (2).
const prefix = 10

// AppendHeader appends the header of an array whose elements NumPy
// describes as descr (e.g. "<f8") and whose shape is shape.
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
	pad := 63 - (prefix+len(dict))%64
	dst = append(dst, "\x93NUMPY\x01\x00"...)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(dict)+pad+1))
	dst = append(dst, dict...)
	dst = append(dst, strings.Repeat(" ", pad)...)
	return append(dst, '\n')
}

// Write writes the header and then data, the elements' bytes.
func Write(w io.Writer, descr string, shape []int, data []byte) error {
	if _, err := w.Write(AppendHeader(nil, descr, shape)); err != nil {
		return err
	}
	_, err := w.Write(data)
	return err
}
