package extsort

import (
	"cmp"
	"slices"
)

// refSize is what one buffered record costs besides its bytes: its ref, and
// the ref's place in the radix sort's scratch array.
const refSize = 2 * 16 // key 8 + off 4 + n 4, twice

// ref locates one buffered record in its buffer's arena. Sorting refs (16
// bytes each) instead of the records keeps the sort inside the CPU caches; the
// arena is read only to break ties between equal keys.
type ref struct {
	key uint64
	off uint32 // offset in the arena; it grows with insertion order
	n   uint32 // length of the record
}

// buffer holds records in memory until it is full and gets sorted and spilled.
type buffer struct {
	arena   []byte
	refs    []ref
	scratch []ref // the radix sort's second array
	limit   int64 // bytes of arena plus refs at which the buffer is full
}

// maxArena keeps arena offsets within a ref's uint32.
const maxArena = 1<<32 - 1

func (b *buffer) add(key uint64, rec []byte) {
	b.refs = append(b.refs, ref{key: key, off: uint32(len(b.arena)), n: uint32(len(rec))})
	b.arena = append(b.arena, rec...)
}

// fits reports whether a record of n bytes can be added without passing the
// limit. An empty buffer takes any record, so that one record larger than the
// limit still sorts.
func (b *buffer) fits(n int) bool {
	if len(b.refs) == 0 {
		return true
	}
	used := int64(len(b.arena)) + int64(len(b.refs)+1)*refSize + int64(n)
	return used <= b.limit && int64(len(b.arena))+int64(n) <= maxArena
}

func (b *buffer) record(r ref) []byte { return b.arena[r.off : r.off+r.n : r.off+r.n] }

// sort orders the refs by key, then by compare (if any), then by insertion
// order. The keys are sorted by a stable radix sort, which keeps insertion
// order among equal keys; compare then orders each run of equal keys, stably.
func (b *buffer) sort(compare func(a, b []byte) int) {
	if len(b.refs) < radixMin {
		slices.SortFunc(b.refs, func(x, y ref) int {
			if c := cmp.Compare(x.key, y.key); c != 0 {
				return c
			}
			return cmp.Compare(x.off, y.off) // the arena grows with insertion order
		})
	} else {
		b.scratch = slices.Grow(b.scratch[:0], len(b.refs))[:len(b.refs)]
		if sorted := radixSort(b.refs, b.scratch); &sorted[0] != &b.refs[0] {
			b.refs, b.scratch = sorted, b.refs
		}
	}
	if compare != nil {
		b.sortTies(compare)
	}
}

// radixMin is the number of records below which a comparison sort is faster
// than eight radix passes.
const radixMin = 1 << 10

// radixSort sorts refs by key, stably, with eight passes of one byte each
// (least significant first) between refs and tmp, and returns the array that
// holds the result. All eight byte histograms come from one first pass.
func radixSort(refs, tmp []ref) []ref {
	var counts [8][256]int
	for _, r := range refs {
		for d := range 8 {
			counts[d][byte(r.key>>(8*d))]++
		}
	}
	for d := range 8 {
		if counts[d][byte(refs[0].key>>(8*d))] == len(refs) {
			continue // every key has the same byte here
		}
		sum := 0
		for i, c := range counts[d] {
			counts[d][i] = sum
			sum += c
		}
		for _, r := range refs {
			digit := byte(r.key >> (8 * d))
			tmp[counts[d][digit]] = r
			counts[d][digit]++
		}
		refs, tmp = tmp, refs
	}
	return refs
}

// sortTies orders each run of refs with equal keys by compare, keeping
// insertion order among records compare finds equal.
func (b *buffer) sortTies(compare func(a, b []byte) int) {
	for i := 0; i < len(b.refs); {
		j := i + 1
		for j < len(b.refs) && b.refs[j].key == b.refs[i].key {
			j++
		}
		if j-i > 1 {
			slices.SortStableFunc(b.refs[i:j], func(x, y ref) int { return compare(b.record(x), b.record(y)) })
		}
		i = j
	}
}

// reset empties the buffer and keeps its memory for the next records.
func (b *buffer) reset() {
	b.arena = b.arena[:0]
	b.refs = b.refs[:0]
}

// bufferIter iterates a sorted buffer in memory; it is the whole sort when
// nothing was spilled.
type bufferIter struct {
	b *buffer
	i int
}

func (it *bufferIter) next() (bool, error) {
	it.i++
	return it.i < len(it.b.refs), nil
}

func (it *bufferIter) key() uint64    { return it.b.refs[it.i].key }
func (it *bufferIter) record() []byte { return it.b.record(it.b.refs[it.i]) }
func (it *bufferIter) close() error   { return nil }
