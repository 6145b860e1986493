package heap

import (
	"math/bits"
	"math/rand/v2"
)

// table is one shard's entries in an open-addressed array, keyed by the
// key's 64-bit hash: a bucket holds the hash beside the entry, so that a
// lookup reads one bucket (one cache line, mostly) and compares 8 bytes
// before it reads the key (in the entry's data, which it reads anyway for
// the value), and growing the table never reads a key. A key's home is the
// bucket its hash's top bits name (the shard took the low ones); a key
// lives at its home or in the first empty bucket after it (linear probing),
// and a delete moves later keys back so that no probe ever crosses a hole
// (no tombstones). Keys with equal hashes are told apart by their bytes.
//
// The zero table is empty, and a table is not safe for concurrent use: its
// shard's lock protects it.
type table struct {
	buckets []bucket // a power of two of them, or none
	n       int      // entries held
	shift   uint8    // 64 − log2(len(buckets)): a hash's top bits are its home
}

// bucket is one place of a table; an empty one has no data.
type bucket struct {
	hash uint64
	e    slot
}

// minBuckets is the size of a table's first array.
const minBuckets = 8

func (t *table) home(h uint64) int { return int(h >> t.shift) }

func (t *table) next(i int) int { return (i + 1) & (len(t.buckets) - 1) }

// find returns the index of key's bucket, or -1; h is its hash.
func (t *table) find(key string, h uint64) int {
	if t.n == 0 {
		return -1
	}
	for i := t.home(h); ; i = t.next(i) {
		b := &t.buckets[i]
		if b.e.data == nil {
			return -1
		}
		if b.hash == h && b.e.key() == key {
			return i
		}
	}
}

// get returns key's entry; h is its hash.
func (t *table) get(key string, h uint64) (slot, bool) {
	if i := t.find(key, h); i >= 0 {
		return t.buckets[i].e, true
	}
	return slot{}, false
}

// ref returns key's entry in its bucket, for the caller to change in
// place (its key aside), or nil; h is its hash. It is valid until the
// table next changes.
func (t *table) ref(key string, h uint64) *slot {
	if i := t.find(key, h); i >= 0 {
		return &t.buckets[i].e
	}
	return nil
}

// insert makes e the entry of its key, whose hash is h and which the
// table does not hold.
func (t *table) insert(h uint64, e slot) {
	if 4*(t.n+1) > 3*len(t.buckets) { // linear probing stays short up to three quarters
		t.resize(max(2*len(t.buckets), minBuckets))
	}
	t.place(h, e)
	t.n++
}

// place puts e in the first empty bucket from its home on.
func (t *table) place(h uint64, e slot) {
	i := t.home(h)
	for t.buckets[i].e.data != nil {
		i = t.next(i)
	}
	t.buckets[i] = bucket{hash: h, e: e}
}

// resize moves the entries to an array of m buckets, placing each again by
// its hash.
func (t *table) resize(m int) {
	old := t.buckets
	t.buckets = make([]bucket, m)
	t.shift = uint8(64 - bits.TrailingZeros(uint(m)))
	for i := range old {
		if old[i].e.data != nil {
			t.place(old[i].hash, old[i].e)
		}
	}
}

// del removes key's entry and returns it.
func (t *table) del(key string, h uint64) (slot, bool) {
	i := t.find(key, h)
	if i < 0 {
		return slot{}, false
	}
	e := t.buckets[i].e
	t.n--
	// Close the hole: a later entry of the run moves back into it unless
	// its home lies after the hole (cyclically, in (hole, j]), where a
	// probe from its home would never pass the hole.
	hole := i
	for j := t.next(i); t.buckets[j].e.data != nil; j = t.next(j) {
		home := t.home(t.buckets[j].hash)
		if (j-home)&(len(t.buckets)-1) >= (j-hole)&(len(t.buckets)-1) {
			t.buckets[hole] = t.buckets[j]
			hole = j
		}
	}
	t.buckets[hole] = bucket{}
	if m := len(t.buckets); t.n == 0 {
		*t = table{} // an empty shard holds no array
	} else if m > minBuckets && 4*t.n < m { // a table that emptied to a quarter gives half back (half full after)
		t.resize(m / 2)
	}
	return e, true
}

// each calls fn for every entry until fn returns false; it reports whether
// it got to the end. It starts at a random bucket on every call (so that
// CLOCK's sweeps, which stop at the first victim, do not always favour the
// same keys) and wraps around; fn must not change the table.
func (t *table) each(fn func(e slot) bool) bool {
	if t.n == 0 {
		return true
	}
	return t.eachFrom(rand.IntN(len(t.buckets)), fn)
}

// eachFrom is each starting at bucket start: from 0, two walks of a table
// that did not change see its entries in the same order.
func (t *table) eachFrom(start int, fn func(e slot) bool) bool {
	m := len(t.buckets)
	for k := range m {
		if b := &t.buckets[(start+k)&(m-1)]; b.e.data != nil && !fn(b.e) {
			return false
		}
	}
	return true
}
