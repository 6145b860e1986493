package npy_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/tiermem/tiermem/internal/npy"
)

// hostileCheckHeader checks what numpy.load checks of a version 1.0 or 2.0
// header: the length field (uint16 or uint32) covers the header exactly,
// and the data is aligned.
func hostileCheckHeader(t *testing.T, name string, h []byte) {
	t.Helper()
	if len(h) < 12 {
		t.Fatalf("%s: %d bytes", name, len(h))
	}
	n, pre := int(binary.LittleEndian.Uint16(h[8:])), 10
	if h[6] == 2 {
		n, pre = int(binary.LittleEndian.Uint32(h[8:])), 12
	}
	if n != len(h)-pre {
		t.Errorf("%s: header length field %d but the header is %d bytes: numpy reads the data from the wrong offset", name, n, len(h)-pre)
	}
	if len(h)%64 != 0 {
		t.Errorf("%s: header of %d bytes, not a multiple of 64", name, len(h))
	}
}

// TestHostileHeaderOver64KiB: a version 1.0 header is at most 65535 bytes;
// a shape with many dimensions is written as version 2.0 (a uint32 length),
// not with a wrapped uint16.
func TestHostileHeaderOver64KiB(t *testing.T) {
	shape := make([]int, 30000) // "0, " × 30000 ≈ 90 KB of dict
	for i := range shape {
		shape[i] = 1
	}
	hostileCheckHeader(t, "30000 dims", npy.AppendHeader(nil, "<f8", shape))
	var b bytes.Buffer
	if err := npy.Write(&b, "<f8", shape, make([]byte, 8)); err == nil {
		hostileCheckHeader(t, "Write 30000 dims", b.Bytes()[:b.Len()-8])
	}
}

// TestHostileHeaderBoundaryLengths: every dict length near the 64-byte
// boundary pads right.
func TestHostileHeaderBoundaryLengths(t *testing.T) {
	for n := 1; n < 200; n++ {
		shape := make([]int, n%9)
		for i := range shape {
			shape[i] = n * 1000
		}
		hostileCheckHeader(t, "boundary", npy.AppendHeader(nil, "<f8", shape))
	}
}

// TestHostileWriteRejectsBadInput: negative dimensions, a descr that breaks
// out of the dict literal, or data whose size disagrees with the shape
// make a file numpy.load cannot read; Write should refuse them.
func TestHostileWriteRejectsBadInput(t *testing.T) {
	for _, c := range []struct {
		name  string
		descr string
		shape []int
		data  []byte
	}{
		{"negative dim", "|u1", []int{-1}, nil},
		{"quote in descr", "<f8', 'x': 1, '", []int{1}, make([]byte, 8)},
		{"data short", "|u1", []int{2, 2}, []byte{1, 2, 3}},
		{"data long", "|u1", []int{2}, []byte{1, 2, 3}},
	} {
		var b bytes.Buffer
		if err := npy.Write(&b, c.descr, c.shape, c.data); err == nil {
			t.Errorf("%s: Write accepted it, wrote %q", c.name, b.Bytes()[10:min(b.Len(), 90)])
		}
	}
}
