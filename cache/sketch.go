package cache

import "math/bits"

// sketch is a count-min sketch of 4-bit counters that estimates how often each
// key hash was seen recently (TinyLFU's frequency filter). Every 10 × capacity
// increments all counters are halved, so old popularity fades. Each 64-bit word
// holds 16 counters; a key uses one counter in each of 4 words, all in the same
// 64-byte block so that a lookup touches one cache line.
type sketch struct {
	table     []uint64 // groups of 8 words (64-byte blocks)
	blockMask uint64
	additions int
	period    int // additions between halvings
}

const (
	counterMax  = 15
	resetMask   = 0x7777777777777777
	oneMask     = 0x1111111111111111
	wordsPerBlk = 8
)

// resize sizes the sketch for about capacity distinct keys, forgetting all counts.
func (s *sketch) resize(capacity int) {
	capacity = max(capacity, 16)
	words := 1 << bits.Len(uint(capacity-1)) // ≥ capacity words: 16 counters per key per row
	s.table = make([]uint64, words)
	s.blockMask = uint64(words/wordsPerBlk - 1)
	s.period = 10 * capacity
	s.additions = 0
}

// frequency returns the estimated count of hash h, 0 to 15.
func (s *sketch) frequency(h uint64) int {
	block := (h & s.blockMask) * wordsPerBlk
	h2 := rehash(h)
	f := counterMax
	for i := range 4 {
		word, shift := s.slot(block, h2, i)
		f = min(f, int(s.table[word]>>shift&0xf))
	}
	return f
}

// increment counts one more sighting of hash h.
func (s *sketch) increment(h uint64) {
	block := (h & s.blockMask) * wordsPerBlk
	h2 := rehash(h)
	added := false
	for i := range 4 {
		word, shift := s.slot(block, h2, i)
		if s.table[word]>>shift&0xf < counterMax {
			s.table[word] += 1 << shift
			added = true
		}
	}
	if added {
		s.additions++
		if s.additions >= s.period {
			s.halve()
		}
	}
}

// slot returns the word and bit shift of row i's counter for a key.
func (s *sketch) slot(block, h2 uint64, i int) (uint64, uint) {
	b := h2 >> (i * 8)
	word := block + uint64(i*2) + b&1
	return word, uint(b>>1&0xf) * 4
}

// grow doubles the sketch, keeping every count: a key's block in the doubled
// table is its old one or the same one in the new half, so copying the table
// into both halves preserves every estimate.
func (s *sketch) grow() {
	s.table = append(s.table, s.table...)
	s.blockMask = s.blockMask<<1 | 1
	s.period *= 2
}

// clear forgets every count.
func (s *sketch) clear() {
	clear(s.table)
	s.additions = 0
}

// halve ages every counter by half.
func (s *sketch) halve() {
	odd := 0
	for i, w := range s.table {
		odd += bits.OnesCount64(w & oneMask)
		s.table[i] = w >> 1 & resetMask
	}
	s.additions = (s.additions - odd/4) / 2
}

// rehash mixes h into an independent-looking second hash (splitmix64 finalizer).
func rehash(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}
