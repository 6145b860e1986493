package disk

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/cespare/xxhash/v2"
)

func TestValueSum(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	v := make([]byte, 3*sumPiece+5)
	for i := range v {
		v[i] = byte(r.Uint32())
	}
	for _, n := range []int{0, 1, 100, sumPiece - 1, sumPiece, sumPiece + 1, 2 * sumPiece, len(v)} {
		want := xxhash.Sum64(v[:n])
		if n > sumPiece {
			var sums []byte
			for off := 0; off < n; off += sumPiece {
				sums = binary.LittleEndian.AppendUint64(sums, xxhash.Sum64(v[off:min(n, off+sumPiece)]))
			}
			want = xxhash.Sum64(sums)
		}
		if got := valueSum(v[:n]); got != want {
			t.Errorf("valueSum of %d bytes = %x, want %x", n, got, want)
		}
		var s sumStream
		for rest := v[:n]; len(rest) > 0; {
			part := min(len(rest), 1+r.IntN(sumPiece/3))
			s.Write(rest[:part])
			rest = rest[part:]
		}
		if got := s.Sum64(); got != want {
			t.Errorf("sumStream of %d bytes = %x, want %x", n, got, want)
		}
	}
}
