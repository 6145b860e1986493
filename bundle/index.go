package bundle

import (
	"math/bits"
)

// The index is an array of entries (entry.go) sorted by the 64-bit hash of
// their key, with no empty slots, and a guide: for 2^guideBits buckets (the
// top guideBits bits of a hash), the position of the first entry of each
// bucket, plus a last word equal to the number of entries. The guide is a
// sampled cumulative distribution of the hashes. A lookup of hash t
//
//  1. reads the bucket [lo, hi) of t from the guide,
//  2. guesses t's position by interpolating t's remaining bits between lo and hi,
//  3. reads the window of the guess, the searchSpan bytes around it (eight
//     16-byte entries or four 32-byte ones): if it brackets t, the answer is
//     found there without a branch on the hashes;
//  4. otherwise gallops from the window (steps of one window, then 2×, 4×, …)
//     until a probe brackets t, and binary-searches the bracket,
//
// landing on the first entry whose hash is ≥ t: the first of any run of equal
// hashes. When no two entries have the same hash (unique), an entry equal to
// t brackets it too, so a window that starts at t's entry answers at once.
//
// Without a guide (guideBits 0) step 2 interpolates over the whole array; the
// guess is then off by about √n/2 entries for uniform hashes (1,600 entries at
// 10 million keys), so the gallop and binary search touch a dozen cache lines.
// With about guideTarget entries per bucket the guess is off by 2 or 3
// entries, and a lookup touches one window of the index and one line of the
// guide, 8 bytes per 32 keys. Denser guides (16 and 8 entries a bucket) and
// windows of one and four lines measured slower at 10 million keys: the
// guide falls out of the CPU caches, or the window costs more lines than it
// saves searches.
const (
	guideTarget = 32  // entries per guide bucket on average
	searchSpan  = 128 // bytes of the window: a pair of lines, which the CPU fetches together
	indexAlign  = 128 // the index starts on a window
)

// index is an entries array and its guide.
type index struct {
	e      entries
	guide  []uint64 // 2^bits+1 words, little-endian
	bits   uint8
	unique bool // no two entries have the same hash
}

// guideBitsFor returns how many guide bits suit n entries.
func guideBitsFor(n int64) uint8 {
	if n < 2*guideTarget {
		return 0
	}
	return uint8(min(bits.Len64(uint64(n/guideTarget))-1, maxGuideBits))
}

// bucket returns the guide bucket of hash t.
func bucket(t uint64, guideBits uint8) uint64 {
	if guideBits == 0 {
		return 0
	}
	return t >> (64 - guideBits)
}

// find returns the position of the first entry whose hash is ≥ t (the number
// of entries if none). A guide that contradicts the entries can only make find
// return a wrong position, never read outside the index; a guide word past the
// end is reported as corruption.
func (ix *index) find(t uint64) (int, error) {
	n := uint64(ix.e.len())
	b := bucket(t, ix.bits)
	lo, hi := le64(ix.guide[b]), le64(ix.guide[b+1])
	if lo > hi || hi > n {
		return 0, guideError(b, lo, hi, n)
	}
	frac := t << ix.bits // t's bits below the bucket's, as a fraction of the bucket
	guess := lo + mulHigh(frac, hi-lo)
	return search(ix.e, int(lo), int(hi), int(guess), t, ix.unique), nil
}

// guideError reports a guide bucket that does not fit the index. It is kept
// out of find, whose fast path stays small.
//
//go:noinline
func guideError(b, lo, hi, n uint64) error {
	return corrupt("section guide: bucket %d spans entries %d to %d of %d", b, lo, hi, n)
}

// mulHigh returns ⌊a·b / 2^64⌋: b scaled by the fraction a/2^64.
func mulHigh(a, b uint64) uint64 {
	hi, _ := bits.Mul64(a, b)
	return hi
}

// search returns the first i in [lo, hi) with e.hash(i) ≥ t, or hi if there
// is none, given that the hashes are sorted, and unique if so told.
//
// It first reads the window of the guess: when its first and last entries
// bracket t, the answer is first plus the count of its entries below t, taken
// without a branch on the hashes (a borrow added up), so that no branch waits
// for the cache miss and mispredicts. Otherwise it gallops on from the side
// of the answer and binary-searches.
func search(e entries, lo, hi, guess int, t uint64, unique bool) int {
	if lo >= hi {
		return lo
	}
	guess = min(max(guess, lo), hi-1)
	// The window of the guess: entries first to last.
	span := e.perSpan() - 1
	first, last := max(guess&^span, lo), min(guess|span, hi-1)
	hf, hl := e.hash(first), e.hash(last)
	if (hf < t || unique && hf == t) && hl >= t { // the answer is in [first, last]
		n := first
		for i := first; i < last; i++ {
			_, below := bits.Sub64(e.hash(i), t, 0) // 1 if hash < t
			n += int(below)
		}
		return n
	}
	if hf >= t {
		lo, hi = gallopLeft(e, lo, first, t)
	} else {
		lo, hi = gallopRight(e, last, hi, t)
	}
	for lo < hi { // the answer is in [lo, hi]
		mid := int(uint(lo+hi) >> 1)
		if e.hash(mid) < t {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// gallopRight brackets the answer, known to be past g (hash(g) < t), within
// [lo, hi] by probing g+step, g+2·step, … from a step of one window.
func gallopRight(e entries, g, end int, t uint64) (lo, hi int) {
	prev := g
	for step := e.perSpan(); ; step *= 2 {
		probe := g + step
		if probe >= end {
			return prev + 1, end
		}
		if e.hash(probe) >= t {
			return prev + 1, probe
		}
		prev = probe
	}
}

// gallopLeft brackets the answer, known to be at g or before (hash(g) ≥ t),
// within [lo, hi] by probing g-step, g-2·step, … from a step of one window.
func gallopLeft(e entries, start, g int, t uint64) (lo, hi int) {
	prev := g
	for step := e.perSpan(); ; step *= 2 {
		probe := g - step
		if probe < start {
			return start, prev
		}
		if e.hash(probe) < t {
			return probe + 1, prev
		}
		prev = probe
	}
}

// guideBuilder fills a guide from hashes given in sorted order.
type guideBuilder struct {
	words []uint64 // host-order values; written little-endian at the end
	bits  uint8
	next  uint64 // the first bucket whose start is not yet known
	n     uint64 // entries seen
}

func newGuideBuilder(guideBits uint8) *guideBuilder {
	return &guideBuilder{words: make([]uint64, 1<<guideBits+1), bits: guideBits}
}

// add records the next entry's hash.
func (g *guideBuilder) add(h uint64) {
	for b := bucket(h, g.bits); g.next <= b; g.next++ {
		g.words[g.next] = g.n
	}
	g.n++
}

// finish closes the buckets after the last entry and returns the guide.
func (g *guideBuilder) finish() []uint64 {
	for ; g.next < uint64(len(g.words)); g.next++ {
		g.words[g.next] = g.n
	}
	return g.words
}
