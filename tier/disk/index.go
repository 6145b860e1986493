package disk

import (
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/tiermem/tiermem/internal/spin"
)

// entry is where the newest record of a key lives, and what a read needs to
// verify and decode its value without reading the header again.
type entry struct {
	seg   *segment
	off   int64  // record start in seg
	size  int64  // record bytes on disk
	seq   uint64 // the record's sequence number
	sum   uint64 // XXH3-64 of the stored value
	raw   int64  // decoded value length
	metaP *byte  // the record's meta, metaN bytes: owned by the index, never modified
	metaN uint32
	codec codec
	tomb  bool // a tombstone: the key is deleted
}

// An entry is 64 bytes: the index holds one per key (a slice for the meta
// would take 16 more, for every key of a tier of millions), in one
// allocation with the key's bytes (newEntry).
var _ [64 - unsafe.Sizeof(entry{})]struct{}

// meta returns the record's meta (nil for none): the index's own bytes,
// which callers must not modify.
func (e *entry) meta() []byte {
	if e.metaN == 0 {
		return nil
	}
	return unsafe.Slice(e.metaP, e.metaN)
}

// setMeta makes m, which the index then owns, e's meta.
func (e *entry) setMeta(m []byte) {
	e.metaP, e.metaN = nil, uint32(len(m))
	if len(m) > 0 {
		e.metaP = &m[0]
	}
}

// valueOff returns where the stored value of key's record starts.
func (e *entry) valueOff(key string) int64 {
	return e.off + int64(recordHeaderSize+len(key)+int(e.metaN))
}

// stored returns the length of the stored value of key's record.
func (e *entry) stored(key string) int64 {
	return e.size - int64(recordHeaderSize+len(key)+int(e.metaN))
}

// entryOf returns the entry for rec found in g.
func entryOf(g *segment, rec *scanned) entry {
	e := entry{seg: g, off: rec.off, size: rec.h.size(), seq: rec.h.seq, sum: rec.h.sum,
		raw: int64(rec.h.raw), codec: rec.h.codec, tomb: rec.h.kind == kindDelete}
	if m := rec.meta(); len(m) > 0 {
		e.setMeta(append([]byte(nil), m...))
	}
	return e
}

const shardCount = 64 // power of two; spreads the write lock on 2–64 cores

// index maps every key to its newest record: a live put or a tombstone.
// Tombstones stay in the index until compaction drops them from disk, so
// that a put older than the delete never wins. It keeps each segment's live
// bytes and lowest dead sequence number in step with its map, under the
// shard lock.
//
// index is safe for concurrent use. Its zero value is not usable: call
// newIndex.
type index struct {
	shards [shardCount]shard

	keys  atomic.Int64 // live keys
	tombs atomic.Int64 // tombstones held
	bytes atomic.Int64 // record bytes of the live keys

	lastSeq atomic.Uint64 // the newest sequence number applied

	onDead func(*segment) // called, under a shard lock, after a record of g died
}

type shard struct {
	mu spin.RWMutex // protects m and the entries it points to
	m  map[string]*entry
}

// The map of a shard points at each key's entry, which shares one
// allocation with the key's bytes (the map's key string is over them) for
// keys of up to 128 bytes: 80 bytes for a 16-byte key, and a map slot of
// 24, where a slot holding the entry itself was 80 and the key another
// allocation. An entry is created with its key and changed in place until
// the key leaves the index, so the key's bytes never move or change;
// readers copy the entry out under the shard's read lock.
type (
	keyed16 struct {
		k [16]byte
		e entry
	}
	keyed32 struct {
		k [32]byte
		e entry
	}
	keyed64 struct {
		k [64]byte
		e entry
	}
	keyed128 struct {
		k [128]byte
		e entry
	}
)

// newEntry returns a new entry for key and the string the map keeps for
// it: over bytes in the entry's own allocation for a key of up to 128
// bytes, a copy of its own for a longer one.
func newEntry(key string) (*entry, string) {
	switch n := len(key); {
	case n <= 16:
		r := &keyed16{}
		return &r.e, keyOver(r.k[:], key)
	case n <= 32:
		r := &keyed32{}
		return &r.e, keyOver(r.k[:], key)
	case n <= 64:
		r := &keyed64{}
		return &r.e, keyOver(r.k[:], key)
	case n <= 128:
		r := &keyed128{}
		return &r.e, keyOver(r.k[:], key)
	}
	return &entry{}, strings.Clone(key)
}

// keyOver copies key into buf, as long as it or longer, and returns the
// string over the copy.
func keyOver(buf []byte, key string) string {
	n := copy(buf, key)
	return unsafe.String(&buf[0], n)
}

func newIndex(onDead func(*segment)) *index {
	x := &index{onDead: onDead}
	for i := range x.shards {
		x.shards[i].m = make(map[string]*entry)
	}
	return x
}

// lookLocked returns key's entry; its shard's lock is held.
func (sh *shard) lookLocked(key string) (entry, bool) {
	if p, ok := sh.m[key]; ok {
		return *p, true
	}
	return entry{}, false
}

func (x *index) shard(key string) *shard {
	return &x.shards[xxhash.Sum64String(key)&(shardCount-1)]
}

// get returns key's entry, tombstones included.
func (x *index) get(key string) (entry, bool) {
	sh := x.shard(key)
	sh.mu.RLock()
	e, ok := sh.lookLocked(key)
	sh.mu.RUnlock()
	return e, ok
}

// acquire returns key's live entry with a reference on its segment, which
// the caller must release.
func (x *index) acquire(key string) (entry, bool) {
	sh := x.shard(key)
	sh.mu.RLock()
	e, ok := sh.lookLocked(key)
	if ok && !e.tomb {
		e.seg.acquire()
	}
	sh.mu.RUnlock()
	return e, ok && !e.tomb
}

// apply makes e key's entry unless the index holds a record at least as
// new, in which case e's record is dead on arrival. It returns the live put
// that e replaced, if any.
func (x *index) apply(key string, e entry) (entry, bool) {
	sh := x.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	x.noteSeq(e.seq)
	p, had := sh.m[key]
	var cur entry
	if had {
		if cur = *p; cur.seq >= e.seq {
			x.diedLocked(e)
			return entry{}, false
		}
	} else {
		var k string
		p, k = newEntry(key)
		sh.m[k] = p
	}
	*p = e
	x.link(e)
	if had {
		x.unlink(cur)
		x.diedLocked(cur)
	}
	return cur, had && !cur.tomb
}

// link counts e, now in the index, in its segment and the totals.
func (x *index) link(e entry) { x.count(e, 1) }

// unlink uncounts e, no longer in the index.
func (x *index) unlink(e entry) { x.count(e, -1) }

// count adds n times e to its segment's counters and the totals.
func (x *index) count(e entry, n int64) {
	e.seg.live.Add(n * e.size)
	if e.tomb {
		e.seg.tombs.Add(n)
		x.tombs.Add(n)
		return
	}
	x.keys.Add(n)
	x.bytes.Add(n * e.size)
}

// diedLocked notes that e's record is dead. Call with its shard locked.
func (x *index) diedLocked(e entry) {
	if !e.tomb {
		e.seg.noteDeadPut(e.seq)
	}
	if x.onDead != nil {
		x.onDead(e.seg)
	}
}

// relocate points key at its record's copy at toOff in to, if key's entry
// is still the record at fromOff in from, and reports whether it did; if it
// did not, the copy is dead.
func (x *index) relocate(key string, from *segment, fromOff int64, to *segment, toOff int64) bool {
	sh := x.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	p, ok := sh.m[key]
	if !ok || p.seg != from || p.off != fromOff {
		return false
	}
	old, e := *p, *p
	e.seg, e.off = to, toOff
	x.moveCount(old, e)
	*p = e
	return true
}

// moveCount moves a record's count from old's segment to e's, the same
// record's copy: the totals (keys, bytes, tombstones) do not change, so
// that Used and Len never count the record twice while it moves.
func (x *index) moveCount(old, e entry) {
	e.seg.live.Add(e.size) // the new segment first: the record is always counted in one of the two
	old.seg.live.Add(-old.size)
	if e.tomb {
		e.seg.tombs.Add(1)
		old.seg.tombs.Add(-1)
	}
}

// dropTombstone removes key's entry if it is still the tombstone at off in g.
func (x *index) dropTombstone(key string, g *segment, off int64) {
	sh := x.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if p, ok := sh.m[key]; ok && p.tomb && p.seg == g && p.off == off {
		delete(sh.m, key)
		x.unlink(*p)
	}
}

// liveItem is what scan hands out for one live key.
type liveItem struct {
	key  string
	meta []byte
	size int64
}

// snapshot appends the live keys of shard i to dst. The metas are the
// index's own: callers must not modify them.
func (x *index) snapshot(i int, dst []liveItem) []liveItem {
	sh := &x.shards[i]
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	for k, p := range sh.m {
		if !p.tomb {
			dst = append(dst, liveItem{k, p.meta(), p.size})
		}
	}
	return dst
}

// grow makes room for about n more keys (Open's empty index, from the hint
// files; the Manager's Close, for memory's keys): each shard's map is
// remade with room for its keys and its share of n, unless it has that
// room already (a map's room is not visible: a map is remade when n is at
// least its size, the point where growing it key by key would rehash each
// key it holds about once anyway).
func (x *index) grow(n int) {
	per := n / shardCount
	for i := range x.shards {
		sh := &x.shards[i]
		sh.mu.Lock()
		if have := len(sh.m); per > 0 && per >= have {
			m := make(map[string]*entry, have+per)
			for k, p := range sh.m {
				m[k] = p
			}
			sh.m = m
		}
		sh.mu.Unlock()
	}
}
