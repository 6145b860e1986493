package freq

import (
	"math/bits"
	"sync/atomic"
)

// A table holds the counters: blocks of 8 words (64 bytes, one cache line),
// 16 four-bit counters to a word. A key's block is picked by the low bits of
// its hash; in that block row i (0 to 3) owns words 2i and 2i+1, and the key
// uses one of the row's 32 counters, picked by 5 bits of the hash's top 20.
// A key therefore has 4 counters in 4 different words of one cache line.
//
// The words are only read and written atomically, so any number of
// goroutines may use a table at once.
type table struct {
	words []atomic.Uint64
	mask  uint64 // blocks - 1; blocks is a power of two
}

const (
	wordsPerBlock = 8       // 64 bytes: one cache line
	rows          = 4       // counters per key, one in each row
	rowCounters   = 32      // counters of one row in a block: 2 words × 16
	keysPerBlock  = 48      // at most 1.5 keys per counter of a row (doc.go gives the error)
	minBlocks     = 64      // 4 KiB: the floor, sized for 3,072 keys
	maxBlocks     = 1 << 32 // 256 GiB: block indexes stay below bit 32 of the hash
	slotBits      = 5       // bits that pick a key's word and counter in a row
	slotShift     = 64 - 20 // slots come from the hash's top rows × slotBits bits
	counterMask   = 0xf     // one 4-bit counter
	shrinkFactor  = 4       // Resize shrinks only when a quarter of the blocks would do
)

// halveMasks[n] keeps, after a word is shifted right by n, only the bits that
// come from the same counter: the counters are divided by 2ⁿ.
var halveMasks = [...]uint64{
	0xffffffffffffffff,
	0x7777777777777777,
	0x3333333333333333,
	0x1111111111111111,
	0,
}

func newTable(blocks int) *table {
	return &table{words: make([]atomic.Uint64, blocks*wordsPerBlock), mask: uint64(blocks - 1)}
}

// blocksFor returns the blocks a table needs for keys keys: a power of two,
// with at most keysPerBlock keys to a block, between minBlocks and maxBlocks.
func blocksFor(keys int64) int {
	need := uint64(max(keys, 1)+keysPerBlock-1) / keysPerBlock
	blocks := uint64(1) << bits.Len64(need-1)
	return int(min(max(blocks, minBlocks), maxBlocks))
}

func (t *table) blocks() int { return len(t.words) / wordsPerBlock }

// slot returns the word and bit shift of row i's counter for hash h.
func (t *table) slot(h uint64, i int) (*atomic.Uint64, uint) {
	s := h >> (slotShift + i*slotBits)
	word := (h&t.mask)*wordsPerBlock + uint64(2*i) + s&1
	return &t.words[word], uint(s>>1&counterMask) * 4
}

// estimate returns the smallest of h's counters.
func (t *table) estimate(h uint64) int {
	est := Max
	for i := range rows {
		w, shift := t.slot(h, i)
		est = min(est, int(w.Load()>>shift&counterMask))
	}
	return est
}

// add counts one more read of h by conservative update: only the counters
// that hold the smallest value are incremented, and none past Max. It
// returns the new estimate.
func (t *table) add(h uint64) int {
	var seen [rows]int
	low := Max
	for i := range rows {
		w, shift := t.slot(h, i)
		seen[i] = int(w.Load() >> shift & counterMask)
		low = min(low, seen[i])
	}
	if low == Max {
		return Max
	}
	est := Max
	for i, c := range seen {
		if c == low {
			w, shift := t.slot(h, i)
			c = increment(w, shift)
		}
		est = min(est, c)
	}
	return est
}

// increment adds one to the counter at shift in w unless it is at Max, and
// returns the counter's new value.
func increment(w *atomic.Uint64, shift uint) int {
	for {
		old := w.Load()
		c := int(old >> shift & counterMask)
		if c == Max {
			return Max
		}
		if w.CompareAndSwap(old, old+1<<shift) {
			return c + 1
		}
	}
}

// halve divides every counter by 2ⁿ (n ≥ 1), one word at a time. A
// concurrent add to a word is retried, not lost: it lands either before or
// after that word's halving.
func (t *table) halve(n int) {
	mask := halveMasks[min(n, len(halveMasks)-1)]
	for i := range t.words {
		w := &t.words[i]
		for {
			old := w.Load()
			if old == 0 || w.CompareAndSwap(old, old>>n&mask) {
				break
			}
		}
	}
}

// resized returns a table of the given number of blocks holding t's counts,
// so that no key's estimate falls. Growing copies t into each part of the
// bigger table: a key's block there is its old block plus a multiple of t's
// size, so every estimate stays exactly the same. Shrinking folds the parts
// of t onto one another, keeping the larger of each pair of counters, so
// estimates can only rise. Adds to t while resized runs may be lost.
func (t *table) resized(blocks int) *table {
	n := newTable(blocks)
	if len(n.words) >= len(t.words) {
		last := len(t.words) - 1
		for i := range n.words {
			n.words[i].Store(t.words[i&last].Load())
		}
		return n
	}
	last := len(n.words) - 1
	for i := range t.words {
		w := &n.words[i&last]
		w.Store(counterMax(w.Load(), t.words[i].Load()))
	}
	return n
}

// counterMax returns the word whose counters are the larger of a's and b's.
func counterMax(a, b uint64) uint64 {
	var m uint64
	for shift := 0; shift < 64; shift += 4 {
		m |= max(a>>shift&counterMask, b>>shift&counterMask) << shift
	}
	return m
}
