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

// TestHostileItemSizeOfEveryDescr: Write checks data against NumPy's item
// size for every descr it accepts, which is not always the number the descr
// ends with: "<U2" is 2 UCS-4 code points, 8 bytes, and "<M8[ns]" is 8
// bytes. A descr whose item size Write does not know is refused.
func TestHostileItemSizeOfEveryDescr(t *testing.T) {
	for _, c := range []struct {
		descr string
		size  int // NumPy's dtype(descr).itemsize; 0: Write refuses the descr
	}{
		{"<f8", 8}, {"<f2", 2}, {"<f16", 16}, {"<i2", 2}, {"|i1", 1}, {"<u8", 8}, {"|b1", 1},
		{"<c8", 8}, {"<c16", 16}, {"<c32", 32},
		{"<U2", 8}, {">U10", 40}, {"|S5", 5}, {"|V16", 16},
		{"<M8", 8}, {"<M8[ns]", 8}, {">m8[10s]", 8}, {"<M8[D]", 8},
		{"|O", 0}, {"<f3", 0}, {"<i16", 0}, {"<U0", 0}, {"<U", 0}, {"<f+8", 0}, {"f8", 0},
		{"<M8[xs]", 0}, {"<M8[ns", 0}, {"<M4", 0},
	} {
		var b bytes.Buffer
		for _, n := range []int{2*c.size - 1, 2*c.size + 1, 2 * c.size} {
			err := npy.Write(&b, c.descr, []int{2}, make([]byte, max(n, 0)))
			if ok := c.size > 0 && n == 2*c.size; (err == nil) != ok {
				t.Errorf("Write(%q, shape (2,), %d bytes) = %v; NumPy's item size is %d (0: refused)", c.descr, n, err, c.size)
			}
		}
	}
}
