package offheap

import (
	"sync/atomic"

	"github.com/tiermem/tiermem/memory"
)

// index maps key hashes to record locations in an open-addressing table that
// lives outside the Go heap, so the garbage collector never scans it and it
// costs 8 bytes a slot. A slot holds the top 16 bits of the key's hash (a tag
// that rules out most wrong slots without reading the record), a reference
// bit (set when the key is read, for the CLOCK policy) and 47 bits of
// location plus two. Lookups probe linearly from the slot the hash's low bits
// pick; deletions leave a tombstone; the table is rebuilt when live slots and
// tombstones fill 3/4 of it.
//
// A shard's lock protects the index: writers hold it exclusively; readers
// hold it shared and may set reference bits, so every slot is read and
// modified atomically.
type index struct {
	h      *memory.WritableHandle
	slots  []uint64 // the table, a typed view of h
	mask   uint64   // len(slots)-1
	live   int      // slots holding a location
	dead   int      // tombstones
	hashOf func(loc uint64) uint64
}

const (
	emptySlot     = 0
	tombstone     = 1 // never a valid slot: locations are stored plus 2
	locationBits  = 47
	locationMask  = 1<<locationBits - 1
	referenced    = 1 << locationBits // the key was read since the bit was last cleared
	tagShift      = 48
	minIndexSlots = 1 << 10
)

// newIndex returns a table of slots slots (a power of two); hashOf gives the
// full hash of the key stored at a location, for rebuilding.
func newIndex(slots int, hashOf func(loc uint64) uint64) (*index, error) {
	h, err := memory.Allocate(int64(slots) * 8)
	if err != nil {
		return nil, err
	}
	s, err := memory.Slice[uint64](h.Writable().ReadOnly(), 0, int64(slots))
	if err != nil {
		h.Close()
		return nil, err
	}
	return &index{h: h, slots: s, mask: uint64(slots - 1), hashOf: hashOf}, nil
}

func slotOf(hash, loc uint64) uint64 { return hash>>tagShift<<tagShift | (loc + 2) }

func slotLocation(slot uint64) uint64 { return slot&locationMask - 2 }

func slotMatches(slot, hash uint64) bool {
	return slot > tombstone && slot>>tagShift == hash>>tagShift
}

func (x *index) load(i uint64) uint64 { return atomic.LoadUint64(&x.slots[i]) }

// touch sets the reference bit of position pos; readers may call it.
func (x *index) touch(pos int) {
	if atomic.LoadUint64(&x.slots[pos])&referenced == 0 {
		atomic.OrUint64(&x.slots[pos], referenced)
	}
}

// clearReference clears the reference bit of position pos and reports
// whether it was set.
func (x *index) clearReference(pos int) bool {
	return atomic.AndUint64(&x.slots[pos], ^uint64(referenced))&referenced != 0
}

// find calls match for each location whose tag matches hash, in probe order,
// until match reports true; it returns that slot's position or -1.
func (x *index) find(hash uint64, match func(loc uint64) bool) int {
	for i := hash & x.mask; ; i = (i + 1) & x.mask {
		slot := x.load(i)
		if slot == emptySlot {
			return -1
		}
		if slotMatches(slot, hash) && match(slotLocation(slot)) {
			return int(i)
		}
	}
}

// set stores loc at position pos, found by find; the key counts as referenced.
func (x *index) set(pos int, hash, loc uint64) {
	atomic.StoreUint64(&x.slots[pos], slotOf(hash, loc)|referenced)
}

// remove turns position pos into a tombstone.
func (x *index) remove(pos int) {
	atomic.StoreUint64(&x.slots[pos], tombstone)
	x.live--
	x.dead++
}

// insert adds a location for hash; the caller checked that its key is not in
// the table. It grows the table first when needed.
func (x *index) insert(hash, loc uint64) error {
	if (x.live+x.dead+1)*4 > len(x.slots)*3 {
		if err := x.rebuild(); err != nil {
			return err
		}
	}
	i := hash & x.mask
	for x.slots[i] > tombstone {
		i = (i + 1) & x.mask
	}
	if x.slots[i] == tombstone {
		x.dead--
	}
	atomic.StoreUint64(&x.slots[i], slotOf(hash, loc)|referenced)
	x.live++
	return nil
}

// rebuild copies the live slots into a table sized for twice as many (or the
// same size when tombstones were the problem), dropping the tombstones. A slot
// keeps only 16 bits of hash, so it is placed again from hashOf(location),
// which the store computes from the record's key.
func (x *index) rebuild() error {
	size := len(x.slots)
	if x.live*2 >= size/2 {
		size *= 2
	}
	next, err := newIndex(size, x.hashOf)
	if err != nil {
		return err
	}
	for _, slot := range x.slots {
		if slot > tombstone {
			loc := slotLocation(slot)
			next.insertFresh(x.hashOf(loc), loc, slot&referenced)
		}
	}
	x.h.Close()
	*x = *next
	return nil
}

// insertFresh adds a location to a table being rebuilt (no tombstones, room).
func (x *index) insertFresh(hash, loc, ref uint64) {
	i := hash & x.mask
	for x.slots[i] != emptySlot {
		i = (i + 1) & x.mask
	}
	x.slots[i] = slotOf(hash, loc) | ref
	x.live++
}

// each calls fn for every location in the table with its position.
func (x *index) each(fn func(pos int, loc uint64) bool) {
	for i := range x.slots {
		if slot := x.load(uint64(i)); slot > tombstone && !fn(i, slotLocation(slot)) {
			return
		}
	}
}

// bytes returns the memory the table occupies.
func (x *index) bytes() int64 { return int64(len(x.slots)) * 8 }

func (x *index) close() error { return x.h.Close() }
