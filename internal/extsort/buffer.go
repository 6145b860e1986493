package extsort

import (
	"cmp"
	"slices"
)

// refSize is what one buffered record costs besides its bytes: a ref.
const refSize = 16 // key 8 + off 4 + n 4

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
	arena []byte
	refs  []ref
	limit int64 // bytes of arena plus refs at which the buffer is full
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
// order, which the arena offset records; so an unstable sort is stable here.
func (b *buffer) sort(compare func(a, b []byte) int) {
	slices.SortFunc(b.refs, func(x, y ref) int {
		if x.key != y.key {
			return cmp.Compare(x.key, y.key)
		}
		if compare != nil {
			if c := compare(b.record(x), b.record(y)); c != 0 {
				return c
			}
		}
		return cmp.Compare(x.off, y.off)
	})
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
