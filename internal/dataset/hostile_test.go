package dataset_test

import (
	"bytes"
	"math"
	"testing"

	"github.com/tiermem/tiermem/internal/dataset"
)

// TestHostileScrambledSizesStepDivides: Scrambled yields each record once
// for any n, including multiples of its step (1,000,000,007), where
// j*step mod n alone would yield record 0 at every turn.
func TestHostileScrambledSizesStepDivides(t *testing.T) {
	const step = 1_000_000_007
	for _, n := range []int{step, 2 * step, 9_300_000_000, math.MaxInt} {
		seen := map[string]bool{}
		turn := 0
		for k := range dataset.Scrambled(n) {
			if seen[string(k)] {
				t.Errorf("Scrambled(%d) yields key %q twice within its first %d records", n, k, turn+1)
				break
			}
			seen[string(k)] = true
			if turn++; turn == 1000 {
				break
			}
		}
	}
}

// TestHostileKeysBeyondTwelveDigits: Key is KeySize bytes and distinct for
// every int, and keys sort as their non-negative numbers do, past the 10^12
// records that 12 decimal digits hold.
func TestHostileKeysBeyondTwelveDigits(t *testing.T) {
	is := []int{0, 1, 999_999_999_999, 1_000_000_000_000, 1_000_000_000_001, 1 << 40, 1e16, math.MaxInt - 1, math.MaxInt}
	var prev []byte
	for _, i := range is {
		k := dataset.Key(nil, i)
		if len(k) != dataset.KeySize || !bytes.HasPrefix(k, []byte("key")) {
			t.Errorf("Key(%d) = %q, want %d bytes starting with key", i, k, dataset.KeySize)
		}
		if prev != nil && bytes.Compare(prev, k) >= 0 {
			t.Errorf("Key(%d) = %q does not sort after the key before it, %q", i, k, prev)
		}
		prev = k
	}
	if a, b := dataset.Key(nil, -1), dataset.Key(nil, 0); len(a) != dataset.KeySize || bytes.Equal(a, b) {
		t.Errorf("Key(-1) = %q, Key(0) = %q: want %d bytes and distinct", a, b, dataset.KeySize)
	}
}
