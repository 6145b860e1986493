package bundle

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"

	"github.com/tiermem/tiermem/internal/extsort"
	"github.com/tiermem/tiermem/memory"
)

// Dedup finds identical values with bounded memory, in two steps:
//
//  1. While records are added, the hash of every value of minDedup bytes or
//     more goes into an external sort of its own (8 bytes a value).
//  2. Before the records are written, the sorted hashes are scanned and each
//     hash seen twice or more becomes one slot of the dedup table: a file of
//     dedupSlot-byte {hash, place, size} slots, searched like the index,
//     mapped into memory. Its size follows the number of distinct repeated
//     values, not the number of keys, and the kernel can page it out.
//
// While writing, the first value with a repeated hash is stored and its place
// (the offset of its bytes in the data section, plus one) and size are kept in
// its slot; a later value with that hash and size is compared byte for byte
// with the stored one and, if equal, refers to it (a direct entry's loc, or a
// record's value reference). Two different values with the same hash are both
// stored: dedup never returns other bytes than were added.
type dedup struct {
	h     *memory.WritableHandle
	w     memory.WritableMemory
	e     entries           // read view of the slots: hash, place+1 (0: not written yet), size
	cache map[uint64][]byte // recent small values by place, to compare without I/O
	bytes int               // bytes held by cache
}

const (
	dedupSlot   = 32      // hash 8 + place 8 + size 8 + zero 8: a power of two for search
	cacheValue  = 1 << 10 // values up to this size are cached
	cacheBudget = 4 << 20 // the cache is emptied when it holds more
)

// newDedup builds the dedup table from the sorted value hashes of it, in a
// file in dir. It returns nil when no hash repeats.
func newDedup(dir string, it *extsort.Iter) (*dedup, error) {
	f, err := os.CreateTemp(dir, "bundle-dedup-*")
	if err != nil {
		return nil, fmt.Errorf("bundle: creating dedup table: %w", err)
	}
	n, err := writeRepeated(f, it)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil || n == 0 {
		os.Remove(f.Name())
		return nil, err
	}
	return mapDedup(f.Name(), n)
}

// writeRepeated writes a slot for each hash that it yields twice or more and
// returns the number of slots.
func writeRepeated(f *os.File, it *extsort.Iter) (int64, error) {
	w := bufio.NewWriter(f)
	var slot [dedupSlot]byte
	var n, seen int64
	var prev uint64
	for it.Next() {
		h := it.Key()
		if seen > 0 && h == prev {
			if seen == 1 {
				binary.LittleEndian.PutUint64(slot[:], h)
				w.Write(slot[:])
				n++
			}
			seen++
			continue
		}
		prev, seen = h, 1
	}
	if err := it.Err(); err != nil {
		return 0, err
	}
	if err := w.Flush(); err != nil {
		return 0, fmt.Errorf("bundle: writing dedup table: %w", err)
	}
	return n, nil
}

func mapDedup(path string, n int64) (*dedup, error) {
	h, err := memory.MapWritable(path, 0, 0)
	os.Remove(path) // used through its mapping only: a crash or a signal leaves nothing behind
	if err != nil {
		return nil, err
	}
	words, err := memory.Slice[uint64](h.Memory().WithOrder(hostOrder), 0, n*dedupSlot/8)
	if err != nil {
		h.Close()
		return nil, err
	}
	e := entries{w: words, shift: 2}
	return &dedup{h: h, w: h.Writable(), e: e, cache: map[uint64][]byte{}}, nil
}

// find returns the slot of hash h, if h repeats.
func (d *dedup) find(h uint64) (int, bool) {
	n := d.e.len()
	i := search(d.e, 0, n, int(mulHigh(h, uint64(n))), h, true) // slots have distinct hashes
	return i, i < n && d.e.hash(i) == h
}

// place returns where the first value of slot i was stored and its size, if
// it was.
func (d *dedup) place(i int) (off uint64, size int64, ok bool) {
	p := d.e.loc(i)
	return p - 1, int64(le64(d.e.w[i<<2+2])), p != 0
}

// setPlace records where the first value of slot i was stored, and caches it
// if it is small and in memory.
func (d *dedup) setPlace(i int, off uint64, v value) {
	d.w.PutUint64(int64(i)*dedupSlot+8, off+1)
	d.w.PutUint64(int64(i)*dedupSlot+16, uint64(v.size))
	if v.spool != nil || v.size > cacheValue {
		return
	}
	if d.bytes+len(v.b) > cacheBudget {
		clear(d.cache)
		d.bytes = 0
	}
	d.cache[off] = append([]byte(nil), v.b...)
	d.bytes += len(v.b)
}

// close unmaps the table, whose file has no name left.
func (d *dedup) close() { d.h.Close() }
