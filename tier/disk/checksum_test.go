package disk

import (
	"math/rand/v2"
	"testing"
)

// TestStreamingChecksumEqualsOneShot: recovery verifies values in pieces,
// writes hash them whole; the two must agree for every length.
func TestStreamingChecksumEqualsOneShot(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 16, 128, 240, 241, 1024, 4096, 1<<20 + 17} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		d := newDigest()
		for rest := b; len(rest) > 0; {
			k := min(len(rest), 1+rng.IntN(5000))
			d.Write(rest[:k])
			rest = rest[k:]
		}
		if d.Sum64() != sum64(b) {
			t.Errorf("%d bytes: streaming %x, one shot %x", n, d.Sum64(), sum64(b))
		}
	}
}
