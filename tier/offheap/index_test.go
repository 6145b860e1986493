package offheap

import (
	"math/rand/v2"
	"testing"
)

// TestSlotsFindTheirHomeWithoutTheirKey checks, for tables of every size up
// to beyond what the tag alone can place, that a slot moved into a new table
// lands in the home its key's hash has there: from the tag alone up to 2^24
// slots, from the key's hash (read off the record) beyond.
func TestSlotsFindTheirHomeWithoutTheirKey(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for bits := uint(10); bits <= tagBits+4; bits++ {
		var reads int
		for range 1000 {
			hash, loc := r.Uint64(), r.Uint64()&(largeFlag-1)
			x := &index{mask: 1<<bits - 1, bits: bits, hashOf: func(l uint64) uint64 {
				if l != loc {
					t.Fatalf("hashOf(%d), want the slot's location %d", l, loc)
				}
				reads++
				return hash
			}}
			slot := slotOf(hash, loc) | referenced
			if got, want := x.homeOfSlot(slot), x.home(hash); got != want || got > x.mask {
				t.Fatalf("%d-bit table: home of the slot %d, of the hash %d", bits, got, want)
			}
			if slotLocation(slot) != loc || !slotMatches(slot, hash) {
				t.Fatalf("slot %x lost its location %d or tag", slot, loc)
			}
		}
		if wantReads := bits > tagBits; (reads > 0) != wantReads {
			t.Errorf("%d-bit table: %d records read to place 1000 slots", bits, reads)
		}
	}
}
