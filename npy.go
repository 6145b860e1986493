package tiermem

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// writeNPY writes a in NumPy's .npy format, version 1.0: the magic, a
// little-endian header length, a Python dict literal describing the array
// (padded with spaces so that the data starts at a multiple of 64 bytes),
// then the elements.
func writeNPY(w io.Writer, a Array) error {
	if err := a.check(); err != nil {
		return err
	}
	dims := make([]string, len(a.Shape))
	for i, d := range a.Shape {
		dims[i] = fmt.Sprint(d)
	}
	shape := strings.Join(dims, ", ")
	if len(dims) == 1 {
		shape += ","
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", dtypeInfo[a.DType].npy, shape)
	const prefix = 10 // magic (6), version (2), header length (2)
	pad := 63 - (prefix+len(dict))%64
	header := make([]byte, prefix, prefix+len(dict)+pad+1)
	copy(header, "\x93NUMPY\x01\x00")
	binary.LittleEndian.PutUint16(header[8:], uint16(len(dict)+pad+1))
	header = append(header, dict...)
	header = append(header, strings.Repeat(" ", pad)+"\n"...)
	if _, err := w.Write(header); err != nil {
		return err
	}
	_, err := w.Write(a.Data)
	return err
}
