package offheap

import (
	"math/bits"
	"sync/atomic"

	"github.com/tiermem/tiermem/memory"
)

// index maps key hashes to record locations in an open-addressing table that
// lives outside the Go heap, so the garbage collector never scans it and it
// costs 8 bytes a slot. A slot holds 23 bits of the key's hash (its tag: the
// bits below the six that pick the store's shard), two reference bits (set
// when the key is read or stored: one for the CLOCK hand, one for Idle, so
// that a sweep never makes a key read since the last Idle look idle) and
// 39 bits of location plus two.
// A key's home slot is the top bits of its tag, so for tables of up to 2^23
// slots the tag alone says where a slot belongs: growing the table moves
// slots without reading a single record, and a lookup compares the tag's
// remaining bits before it reads one. Lookups probe linearly from the home
// slot; deletions leave a tombstone; the table is rebuilt when live slots and
// tombstones fill 3/4 of it.
//
// A shard's lock protects the index: writers hold it exclusively; readers
// hold it shared and may set reference bits, so every slot is read and
// modified atomically.
type index struct {
	h      *memory.WritableHandle
	slots  []uint64 // the table, a typed view of h
	mask   uint64   // len(slots)-1
	bits   uint     // log2(len(slots))
	live   int      // slots holding a location
	dead   int      // tombstones
	hashOf func(loc uint64) uint64
}

const (
	emptySlot     = 0
	tombstone     = 1 // never a valid slot: locations are stored plus 2
	locationBits  = 39
	locationMask  = 1<<locationBits - 1
	referenced    = 1 << locationBits // the key was read or stored since the hand last cleared this
	idleRef       = referenced << 1   // the key was read or stored since Idle last cleared this
	readMarks     = referenced | idleRef
	tagShift      = locationBits + 2
	tagBits       = 64 - tagShift
	shardBits     = 6 // the hash's top bits, which pick the shard: the same in every slot of a table
	minIndexSlots = 1 << 10
	hugePage      = 2 << 20 // a table this large is worth backing with huge pages
)

// newIndex returns a table of slots slots (a power of two); hashOf gives the
// full hash of the key stored at a location, for rebuilding.
func newIndex(slots int, hashOf func(loc uint64) uint64) (*index, error) {
	h, err := memory.Allocate(int64(slots) * 8)
	if err != nil {
		return nil, err
	}
	if slots*8 >= hugePage {
		_ = h.HugePages() // advice: a table is used throughout, so its huge pages hold no empty room
	}
	s, err := memory.Slice[uint64](h.Writable().ReadOnly(), 0, int64(slots))
	if err != nil {
		h.Close()
		return nil, err
	}
	return &index{h: h, slots: s, mask: uint64(slots - 1), bits: uint(bits.TrailingZeros(uint(slots))), hashOf: hashOf}, nil
}

// tagOf returns the tagBits bits of hash below its shard bits.
func tagOf(hash uint64) uint64 { return hash << shardBits >> (64 - tagBits) }

func slotOf(hash, loc uint64) uint64 { return tagOf(hash)<<tagShift | (loc + 2) }

// home returns the slot where the probe for hash starts: the tag's top bits,
// and below them, for tables larger than the tag can place, the hash's low bits.
func (x *index) home(hash uint64) uint64 {
	t := tagOf(hash)
	if x.bits <= tagBits {
		return t >> (tagBits - x.bits)
	}
	extra := x.bits - tagBits
	return t<<extra | hash&(1<<extra-1)
}

// homeOfSlot returns the home of the key a slot of another table holds:
// from its tag where the tag has enough bits, else from the key's hash,
// which hashOf reads off its record.
func (x *index) homeOfSlot(slot uint64) uint64 {
	if x.bits <= tagBits {
		return slot >> tagShift >> (tagBits - x.bits)
	}
	return x.home(x.hashOf(slotLocation(slot)))
}

func slotLocation(slot uint64) uint64 { return slot&locationMask - 2 }

func slotMatches(slot, hash uint64) bool {
	return slot > tombstone && slot>>tagShift == tagOf(hash)
}

func (x *index) load(i uint64) uint64 { return atomic.LoadUint64(&x.slots[i]) }

// touch sets the reference bits of position pos; readers may call it.
func (x *index) touch(pos int) {
	if atomic.LoadUint64(&x.slots[pos])&readMarks != readMarks {
		atomic.OrUint64(&x.slots[pos], readMarks)
	}
}

// clearReference clears the hand's reference bit of position pos and
// reports whether it was set.
func (x *index) clearReference(pos int) bool {
	return atomic.AndUint64(&x.slots[pos], ^uint64(referenced))&referenced != 0
}

// clearIdleRef clears Idle's reference bit of position pos and reports
// whether it was set.
func (x *index) clearIdleRef(pos int) bool {
	return atomic.AndUint64(&x.slots[pos], ^uint64(idleRef))&idleRef != 0
}

// find calls match for each location whose tag matches hash, in probe order,
// until match reports true; it returns that slot's position, or -1 and where
// the key would go: the first tombstone on the way or the empty slot that
// ended the probe.
func (x *index) find(hash uint64, match func(loc uint64) bool) (pos, free int) {
	free = -1
	for i := x.home(hash); ; i = (i + 1) & x.mask {
		slot := x.load(i)
		switch {
		case slot == emptySlot:
			if free < 0 {
				free = int(i)
			}
			return -1, free
		case slot == tombstone:
			if free < 0 {
				free = int(i)
			}
		case slotMatches(slot, hash) && match(slotLocation(slot)):
			return int(i), -1
		}
	}
}

// set stores loc at position pos, found by find; the key counts as referenced.
func (x *index) set(pos int, hash, loc uint64) {
	atomic.StoreUint64(&x.slots[pos], slotOf(hash, loc)|readMarks)
}

// remove turns position pos into a tombstone. A table left under a quarter
// full of live keys is rebuilt half as large (just under half full, so that
// it neither grows nor shrinks again soon): deletes give its memory back,
// which Used no longer counts, and sweeps walk less. A table larger than
// minIndexSlots is thus never under a quarter full, 32 bytes a key at
// most, which indexShare bounds (it halved only under a sixteenth full, at
// 128 bytes a key, and a store whose keys were mostly deleted kept an index
// of nearly twice its whole Used). A rebuild that fails (no memory to map
// a table) leaves it as it is.
func (x *index) remove(pos int) {
	atomic.StoreUint64(&x.slots[pos], tombstone)
	x.live--
	x.dead++
	if len(x.slots) > minIndexSlots && x.live*4 < len(x.slots) {
		_ = x.rebuild() // best effort, as the doc says
	}
}

// insert adds a location for hash at free, where find said the key would
// go; it grows the table first when needed (and then finds its own place).
func (x *index) insert(free int, hash, loc uint64) error {
	if (x.live+x.dead+1)*4 > len(x.slots)*3 {
		if err := x.rebuild(); err != nil {
			return err
		}
		free = int(x.home(hash))
		for x.slots[free] != emptySlot {
			free = (free + 1) & int(x.mask)
		}
	}
	if x.slots[free] == tombstone {
		x.dead--
	}
	atomic.StoreUint64(&x.slots[free], slotOf(hash, loc)|readMarks)
	x.live++
	return nil
}

// rebuild copies the live slots into a table twice as large when over half
// of it is live (a quarter to three eighths full after), the same size when
// tombstones were the problem, or halved until it is at least a quarter
// full (minIndexSlots at the least), dropping the tombstones. A slot
// is placed again from its tag (see index), or, in a table too large for
// the tag alone, from hashOf(location), which the store computes from the
// record's key.
func (x *index) rebuild() error {
	size := len(x.slots)
	if x.live*2 > size {
		size *= 2
	}
	for size > minIndexSlots && x.live*4 < size { // under a quarter full: from a quarter to a half
		size /= 2
	}
	next, err := newIndex(size, x.hashOf)
	if err != nil {
		return err
	}
	for _, slot := range x.slots {
		if slot > tombstone {
			next.insertFresh(next.homeOfSlot(slot), slot)
		}
	}
	x.h.Close()
	*x = *next
	return nil
}

// insertFresh adds a slot of the old table at or after home in a table
// being rebuilt (no tombstones, room).
func (x *index) insertFresh(home, slot uint64) {
	i := home
	for x.slots[i] != emptySlot {
		i = (i + 1) & x.mask
	}
	x.slots[i] = slot
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
