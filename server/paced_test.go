package server

import (
	"bytes"
	"net"
	"testing"
)

// TestNextPieceCutsBuffersIntoPieces: the pieces a paced writer gives a
// deadline each hold writePiece bytes but the last, and together they are
// the buffers' bytes in order, whatever their sizes.
func TestNextPieceCutsBuffersIntoPieces(t *testing.T) {
	for _, sizes := range [][]int{
		{0}, {1}, {writePiece}, {writePiece + 1}, {3 * writePiece},
		{10, writePiece, 5}, {writePiece - 1, 2, writePiece - 1}, {0, 7, 0, 4 * writePiece, 0},
	} {
		var bufs net.Buffers
		var want []byte
		for i, n := range sizes {
			b := bytes.Repeat([]byte{byte('a' + i)}, n)
			bufs = append(bufs, b)
			want = append(want, b...)
		}
		var got []byte
		var piece net.Buffers
		for len(bufs) > 0 {
			piece = nextPiece(&bufs, piece[:0])
			size := 0
			for _, b := range piece {
				size += len(b)
				got = append(got, b...)
			}
			if size > writePiece || size < writePiece && len(bufs) > 0 && len(bytes.Join(bufs, nil)) > 0 {
				t.Errorf("sizes %v: a piece of %d bytes with more to come", sizes, size)
			}
		}
		if !bytes.Equal(got, want) {
			t.Errorf("sizes %v: the pieces hold %d bytes, not the buffers' %d in order", sizes, len(got), len(want))
		}
	}
}
