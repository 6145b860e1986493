package npy_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/tiermem/tiermem/internal/npy"
)

func TestHeaderIsAlignedAndDescribesTheArray(t *testing.T) {
	for _, c := range []struct {
		descr string
		shape []int
		dict  string
	}{
		{"<f8", []int{1000, 1000}, "{'descr': '<f8', 'fortran_order': False, 'shape': (1000, 1000), }"},
		{"|u1", []int{3}, "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }"},
		{"<i4", nil, "{'descr': '<i4', 'fortran_order': False, 'shape': (), }"},
	} {
		h := npy.AppendHeader(nil, c.descr, c.shape)
		if len(h)%64 != 0 || h[len(h)-1] != '\n' || !bytes.HasPrefix(h, []byte("\x93NUMPY\x01\x00")) {
			t.Fatalf("%v: header of %d bytes: %q", c.shape, len(h), h)
		}
		if n := int(binary.LittleEndian.Uint16(h[8:])); n != len(h)-10 {
			t.Errorf("%v: header length field %d, want %d", c.shape, n, len(h)-10)
		}
		if got := string(bytes.TrimRight(h[10:], " \n")); got != c.dict {
			t.Errorf("%v: dict %q, want %q", c.shape, got, c.dict)
		}
	}
}

func ExampleWrite() {
	var b bytes.Buffer
	npy.Write(&b, "|u1", []int{2, 2}, []byte{1, 2, 3, 4})
	fmt.Println(b.Len(), b.Bytes()[b.Len()-4:])
	// Output: 132 [1 2 3 4]
}
