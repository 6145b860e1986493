package disk

import "testing"

// TestHostileHintBoundHoldsEveryHint: maxHintSize, the size past which a
// hint file is bad and never read into memory, is at least the size of
// every hint its segment can have: records of any mix of head and value
// sizes, down to the smallest (a head of recordHeaderSize bytes, no
// value), for which it is exact.
func TestHostileHintBoundHoldsEveryHint(t *testing.T) {
	for _, c := range []struct {
		name       string
		head, body int // a record: head bytes (header, key, meta), then value bytes
		n          int
	}{
		{"smallest records", recordHeaderSize, 0, 100},
		{"keys, no values", recordHeaderSize + 20, 0, 50},
		{"values", recordHeaderSize + 5, 1000, 7},
		{"none", recordHeaderSize, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			recs := make([]scanned, c.n)
			off := int64(segmentHeaderSize)
			for i := range recs {
				recs[i] = scanned{off: off, head: make([]byte, c.head)}
				off += int64(c.head + c.body)
			}
			hint := encodeHint(1, off, recs)
			if bound := maxHintSize(uint64(off)); uint64(len(hint)) > bound {
				t.Fatalf("a hint of %d bytes for a segment of %d: the bound is %d", len(hint), off, bound)
			}
			if c.body == 0 && c.head == recordHeaderSize && uint64(len(hint)) != maxHintSize(uint64(off)) {
				t.Errorf("the bound %d is not exact for the smallest records (%d)", maxHintSize(uint64(off)), len(hint))
			}
			if got := maxHintEntries(off); got < uint64(c.n) {
				t.Errorf("maxHintEntries(%d) = %d, for %d records", off, got, c.n)
			}
		})
	}
}
