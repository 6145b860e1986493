package bundle

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// entriesOf returns an index over sorted hashes, with a guide of guideBits,
// in entries of inline key width inline; it is unique if no two hashes are
// equal.
func entriesOf(hashes []uint64, guideBits, inline uint8) index {
	e := newEntries(make([]uint64, len(hashes)*int(entrySize(inline))/8), inline)
	g := newGuideBuilder(guideBits)
	for i, h := range hashes {
		e.w[i<<e.shift] = le64(h)
		g.add(h)
	}
	guide := g.finish()
	for i := range guide {
		guide[i] = le64(guide[i])
	}
	return index{e: e, guide: guide, bits: guideBits, unique: len(slices.Compact(slices.Clone(hashes))) == len(hashes)}
}

// wantFind is what find must return: sort.Search's lower bound.
func wantFind(hashes []uint64, t uint64) int {
	return sort.Search(len(hashes), func(i int) bool { return hashes[i] >= t })
}

func TestFindMatchesSortSearch(t *testing.T) {
	tests := []struct {
		name   string
		hashes []uint64
	}{
		{"empty", nil},
		{"one", []uint64{42}},
		{"all equal", slices.Repeat([]uint64{7}, 100)},
		{"extremes", []uint64{0, 0, 1, 1 << 63, ^uint64(0) - 1, ^uint64(0), ^uint64(0)}},
		{"dense low", []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}},
		{"clustered", clustered(1000)},
		{"uniform", uniform(5000, 1)},
	}
	for _, tt := range tests {
		for _, bits := range []uint8{0, 1, 4, guideBitsFor(int64(len(tt.hashes)))} {
			for _, inline := range []uint8{0, inlineKeyBytes} {
				ix := entriesOf(tt.hashes, bits, inline)
				for _, target := range targets(tt.hashes) {
					got, err := ix.find(target)
					if want := wantFind(tt.hashes, target); err != nil || got != want {
						t.Fatalf("%s, %d guide bits, inline %d: find(%#x) = %d, %v; want %d", tt.name, bits, inline, target, got, err, want)
					}
				}
			}
		}
	}
}

// targets returns every hash, its neighbours and the extremes.
func targets(hashes []uint64) []uint64 {
	out := []uint64{0, 1, 1 << 63, ^uint64(0)}
	for _, h := range hashes {
		out = append(out, h, h-1, h+1)
	}
	return out
}

// clustered returns sorted hashes crowded into a few narrow ranges, the worst
// case for interpolation.
func clustered(n int) []uint64 {
	rng := rand.New(rand.NewPCG(3, 3))
	h := make([]uint64, n)
	for i := range h {
		h[i] = uint64(rng.IntN(4))<<62 | uint64(rng.IntN(50))
	}
	slices.Sort(h)
	return h
}

func uniform(n int, seed uint64) []uint64 {
	rng := rand.New(rand.NewPCG(seed, seed))
	h := make([]uint64, n)
	for i := range h {
		h[i] = rng.Uint64()
	}
	slices.Sort(h)
	return h
}

func TestGuideBits(t *testing.T) {
	tests := []struct {
		n    int64
		want uint8
	}{{0, 0}, {63, 0}, {64, 1}, {1000, 4}, {10_000_000, 18}, {1 << 62, maxGuideBits}}
	for _, tt := range tests {
		if got := guideBitsFor(tt.n); got != tt.want {
			t.Errorf("guideBitsFor(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
}

func TestFindReportsGuidePastTheEnd(t *testing.T) {
	ix := entriesOf([]uint64{1, 2, 3}, 1, 0)
	ix.guide[1] = le64(10)
	if _, err := ix.find(5); err == nil {
		t.Fatal("find accepted a guide word past the last entry")
	}
}

// FuzzFind checks find against sort.Search on sorted arrays with duplicates:
// data is read as 16-bit steps between hashes (zero steps make duplicates,
// the shift spreads or crowds them), for any guide size and both entry sizes.
func FuzzFind(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 5, 0}, uint64(1), uint8(0), uint8(2))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 255, 255}, uint64(0), uint8(50), uint8(3))
	f.Add([]byte{9, 1, 200, 3, 0, 0, 0, 0, 7, 7, 7, 7}, uint64(1)<<63, uint8(48), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, target uint64, shift, bits uint8) {
		data = data[:min(len(data), 4096)]
		hashes := make([]uint64, 0, len(data)/2)
		var h uint64
		for i := 0; i+1 < len(data); i += 2 {
			h += uint64(binary.LittleEndian.Uint16(data[i:])) << (shift % 49)
			hashes = append(hashes, h)
		}
		if !slices.IsSorted(hashes) { // the steps overflowed
			slices.Sort(hashes)
		}
		for _, inline := range []uint8{0, inlineKeyBytes} {
			ix := entriesOf(hashes, bits%12, inline)
			for _, target := range append(targets(hashes), target) {
				got, err := ix.find(target)
				if want := wantFind(hashes, target); err != nil || got != want {
					t.Fatalf("inline %d: find(%#x) = %d, %v; want %d (hashes %x)", inline, target, got, err, want, hashes)
				}
			}
		}
	})
}
