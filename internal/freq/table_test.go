package freq

import (
	"math/rand/v2"
	"testing"
)

// hashAt returns a hash whose key lives in the given block and uses counter
// slots[i] (0 to 31) of row i there.
func hashAt(block uint64, slots [rows]uint64) uint64 {
	h := block
	for i, s := range slots {
		h |= s << (slotShift + i*slotBits)
	}
	return h
}

func TestBlocksFor(t *testing.T) {
	for _, c := range []struct {
		keys   int64
		blocks int
	}{
		{-1, minBlocks},
		{0, minBlocks},
		{1, minBlocks},
		{minBlocks * keysPerBlock, minBlocks},
		{minBlocks*keysPerBlock + 1, 2 * minBlocks},
		{300_000, 8192},       // 1.14 keys per counter of a row
		{393_216, 8192},       // 1.5: the most
		{393_217, 16384},      // 0.75: the least
		{10_000_000, 262_144}, // 1.19
		{1 << 62, maxBlocks},  // capped
		{maxBlocks * keysPerBlock, maxBlocks},
	} {
		if got := blocksFor(c.keys); got != c.blocks {
			t.Errorf("blocksFor(%d) = %d, want %d", c.keys, got, c.blocks)
		}
	}
}

func TestHalve(t *testing.T) {
	for _, c := range []struct {
		word uint64
		n    int
		want uint64
	}{
		{0xfedcba9876543210, 1, 0x7766554433221100},
		{0xfedcba9876543210, 2, 0x3333222211110000},
		{0xfedcba9876543210, 3, 0x1111111100000000},
		{0xfedcba9876543210, 4, 0},
		{0xffffffffffffffff, 64, 0},
		{0x1111111111111111, 1, 0},
	} {
		tb := newTable(minBlocks)
		tb.words[5].Store(c.word)
		tb.halve(c.n)
		if got := tb.words[5].Load(); got != c.want {
			t.Errorf("halving %#x by 2^%d = %#x, want %#x", c.word, c.n, got, c.want)
		}
	}
}

func TestCounterMax(t *testing.T) {
	for _, c := range []struct{ a, b, want uint64 }{
		{0, 0, 0},
		{0xf0f0f0f0f0f0f0f0, 0x0f0f0f0f0f0f0f0f, 0xffffffffffffffff},
		{0x123456789abcdef0, 0x0fedcba987654321, 0x1fedcba99abcdef1},
	} {
		if got := counterMax(c.a, c.b); got != c.want {
			t.Errorf("counterMax(%#x, %#x) = %#x, want %#x", c.a, c.b, got, c.want)
		}
	}
}

// TestConservativeUpdate runs scripts of adds on keys placed by hand and
// checks every estimate after each step.
func TestConservativeUpdate(t *testing.T) {
	keys := map[string]uint64{
		"a": hashAt(0, [rows]uint64{0, 0, 0, 0}),
		"b": hashAt(0, [rows]uint64{0, 1, 1, 1}), // shares row 0 with a
		"c": hashAt(0, [rows]uint64{2, 2, 2, 2}), // a's neighbour in each word
		"d": hashAt(1, [rows]uint64{0, 0, 0, 0}), // a's slots, next block
	}
	type step struct {
		add  string
		want map[string]int // estimates after the add
	}
	for _, c := range []struct {
		name  string
		steps []step
	}{{
		name: "only the smallest counters grow",
		steps: []step{
			{"a", map[string]int{"a": 1, "b": 0, "c": 0, "d": 0}},
			{"a", map[string]int{"a": 2, "b": 0}},
			{"b", map[string]int{"a": 2, "b": 1}}, // row 0 stays 2
			{"b", map[string]int{"a": 2, "b": 2}},
			{"b", map[string]int{"a": 2, "b": 3}}, // row 0 now 3, a's others 2
			{"a", map[string]int{"a": 3, "b": 3}},
		},
	}, {
		name: "saturates at Max without touching neighbours",
		steps: func() []step {
			var s []step
			for i := 1; i <= Max+3; i++ {
				s = append(s, step{"c", map[string]int{"c": min(i, Max), "a": 0, "b": 0, "d": 0}})
			}
			return s
		}(),
	}} {
		t.Run(c.name, func(t *testing.T) {
			tb := newTable(minBlocks)
			for i, s := range c.steps {
				if got := tb.add(keys[s.add]); got != s.want[s.add] {
					t.Fatalf("step %d: add(%s) = %d, want %d", i, s.add, got, s.want[s.add])
				}
				for k, want := range s.want {
					if got := tb.estimate(keys[k]); got != want {
						t.Fatalf("step %d (add %s): estimate(%s) = %d, want %d", i, s.add, k, got, want)
					}
				}
			}
		})
	}
}

// TestResized fills a table with random counts and checks that growing keeps
// every estimate exactly and shrinking never lowers one.
func TestResized(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	hashes := make([]uint64, 20_000)
	tb := newTable(minBlocks * 4)
	for i := range hashes {
		hashes[i] = rng.Uint64()
		for range rng.IntN(Max + 2) {
			tb.add(hashes[i])
		}
	}
	before := make([]int, len(hashes))
	for i, h := range hashes {
		before[i] = tb.estimate(h)
	}
	for _, c := range []struct {
		blocks int
		exact  bool
	}{
		{minBlocks * 4, true},
		{minBlocks * 8, true},
		{minBlocks * 256, true},
		{minBlocks * 2, false},
		{minBlocks, false},
	} {
		r := tb.resized(c.blocks)
		if r.blocks() != c.blocks {
			t.Fatalf("resized(%d) has %d blocks", c.blocks, r.blocks())
		}
		raised := 0
		for i, h := range hashes {
			got := r.estimate(h)
			if got < before[i] || (c.exact && got != before[i]) {
				t.Fatalf("resized to %d blocks: estimate of hash %d is %d, was %d", c.blocks, i, got, before[i])
			}
			if got > before[i] {
				raised++
			}
		}
		if !c.exact && raised == 0 {
			t.Errorf("shrinking to %d blocks raised no estimate: the fold is not exercised", c.blocks)
		}
	}
}
