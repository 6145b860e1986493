// Package heap is the hot tier without a GPU: values in live Go memory,
// uncompressed, read in place.
//
// A store chooses its victims (tier.VictimChooser) by CLOCK, from one word
// per entry (New), or by a replacement policy of package cache whose
// handles the entries hold (NewWithPolicy): either way it keeps no map of
// keys besides its own.
package heap

import (
	"hash/maphash"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/tiermem/tiermem/cache"
	"github.com/tiermem/tiermem/internal/spin"
	"github.com/tiermem/tiermem/tier"
)

// entryOverhead is what an entry costs beyond the room of its allocation
// (slot.room: the key, value and meta with their padding, rounded up as the
// allocator rounds them): the word before them, and its share of its
// shard's table. A table runs from 3/8 to 3/4 full as it grows
// (table.insert) and down to 1/4 full as keys are deleted before it halves
// (table.del), and an entry is charged a bucket at 3/8 full, the upper end
// of the growing range (40-byte buckets: 107 bytes, where 64 was charged
// before and a table of small entries outgrew the budget by half). Only a
// table drained by deletes, under 3/8 full, costs more than its entries
// are charged: at most 3/2 of their share, until it halves. handleOverhead
// is what an entry of a store with a policy costs on top (its
// cache.Handle, one 64-byte object).
const (
	entryOverhead  = bucketShare + wordSize
	bucketShare    = (int64(unsafe.Sizeof(bucket{}))*8 + 2) / 3
	handleOverhead = 64
)

// shards spreads the keys over independently locked tables.
const shards = 64

// Store keeps values in Go memory, found through open-addressed tables
// of its own (table.go). It is safe for concurrent use; a View holds
// its shard's read lock while the callback runs. Make one with New or
// NewWithPolicy; the zero Store is not usable.
type Store struct {
	shards [shards]shard
	closed sync.Once
	shut   atomic.Bool   // set when Close begins, before it empties the store
	used   atomic.Int64  // bytes of all entries, as Size counts them
	count  atomic.Int64  // keys
	hand   atomic.Uint64 // CLOCK's hand: its turn times shards, plus the shard it is in (clock.go)
	policy *policy       // nil: victims by CLOCK (policy.go)
	held   atomic.Int64  // bytes of lendable allocations that left the store, not yet reclaimed (Held)
}

type shard struct {
	mu      spin.RWMutex // protects values, the items in it, handles and closed
	values  table
	handles handlePool
	closed  bool
}

// handlePool hands out the policy handles of a shard's new entries, the
// handle of a deleted entry first: a store whose keys come and go
// allocates a new key's data alone. A handle taken back is out of the
// policy (not resident, its key cleared), so a read of its old entry still
// in the read buffer is ignored, or, once the handle is given to a new
// entry, counts as a read of that one: a stray hit, never a wrong list.
// The pool keeps at most an eighth of the shard's live entries (or 32):
// a shard that shrinks lets the rest go. Handles are allocated one by one,
// not in chunks: a chunk stays whole while any of its handles lives, and
// a tier that shrinks after a peak (a lower budget) would keep its peak's
// memory. The zero pool is empty; its shard's lock protects it.
type handlePool struct {
	free []*cache.Handle[string]
}

func (p *handlePool) get() *cache.Handle[string] {
	if n := len(p.free); n > 0 {
		h := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		return h
	}
	return &cache.Handle[string]{}
}

// put takes back the handle of a deleted entry, which its policy has
// removed, unless the pool holds enough for a shard of live entries
// already; a pool larger than that (the shard shrank) lets the extra go.
func (p *handlePool) put(h *cache.Handle[string], live int) {
	limit := max(live/8, 32)
	if len(p.free) < limit {
		p.free = append(p.free, h)
		return
	}
	clear(p.free[limit:])
	p.free = p.free[:limit]
}

// slot is one key's entry, as its shard's table holds it. Its data is one
// allocation holding the entry's word, then a private copy of the key, the
// value and the meta (in an allocation of lendMin bytes or more, the value
// starts at the next multiple of 8 after the key: valueOffset). The key's
// bytes are written once and never again (a replacing Put writes the value
// and meta in place, or into a new allocation), so strings over them stay
// valid and unchanged for as long as anyone holds them; so do the value's
// bytes in an allocation of lendMin or more (Lends; SetMeta writes only the
// meta after them in place). A read finds the key,
// the value and the word in the one allocation: one memory access past the
// table's bucket. The shard's lock protects the slot; the word is read and
// written atomically.
type slot struct {
	data   *byte                 // the word, key, value and meta
	h      *cache.Handle[string] // its place in the store's policy; nil under CLOCK (policy.go)
	n      uint32                // bytes after the word: key, value and meta
	room   uint32                // bytes the allocation holds after the word
	keyLen uint32                // the key's length (keys are far shorter than 4 GiB)
	metaAt uint32                // where meta starts, counted after the word
}

// wordSize is the bytes of the word at the start of an entry's data:
// under CLOCK the reference word (clock.go); under a policy, when the
// entry was last read or stored, in Unix nanoseconds. Allocations of 8
// bytes or more are 8-aligned, as atomic access wants.
const wordSize = 8

// maxEntry bounds key, value and meta together, as a slot counts them.
// With up to 7 bytes of padding (entryBytes), metaRoom and the rounding of
// an allocation to whole pages (allocSize), an entry's room still fits the
// uint32 of a slot (a room that wrapped made a Put just under the old
// limit, of MaxUint32 − 8, panic).
const maxEntry = math.MaxUint32 - 7 - metaRoom - (allocPage - 1)

func (e slot) word() *atomic.Int64 { return (*atomic.Int64)(unsafe.Pointer(e.data)) }

// bytes returns the key, value and meta.
func (e slot) bytes() []byte {
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(e.data), wordSize)), e.room)[:e.n]
}

func (e slot) key() string {
	return unsafe.String((*byte)(unsafe.Add(unsafe.Pointer(e.data), wordSize)), int(e.keyLen))
}

func (e slot) value() []byte { return e.bytes()[e.valueAt():e.metaAt:e.metaAt] }

// valueAt returns where the value starts, counted after the word: right
// after the key, or, in an allocation of lendMin bytes or more, at the next
// multiple of 8 (see valueOffset).
func (e slot) valueAt() int {
	if e.room >= lendMin {
		return align8(int(e.keyLen))
	}
	return int(e.keyLen)
}

// valueOffset returns where the value of an entry of these lengths starts
// after the word: an entry whose allocation holds lendMin bytes or more
// (the ones the store lends) starts it at a multiple of 8, so that a large
// array's data is aligned for its elements and a view of it needs no copy;
// a smaller one right after the key. An allocation's room decides, so that
// a slot finds the same offset (valueAt): a padded entry's room is at
// least lendMin, and an unpadded one's, no larger than its padded form's,
// is below it.
func valueOffset(keyLen, valueLen, metaLen int) int {
	if padded := align8(keyLen); roomFor(padded+valueLen+metaLen) >= lendMin {
		return padded
	}
	return keyLen
}

// entryBytes returns the bytes after the word an entry of these lengths
// takes: its key, any padding, its value and its meta.
func entryBytes(keyLen, valueLen, metaLen int) int {
	return valueOffset(keyLen, valueLen, metaLen) + valueLen + metaLen
}

func align8(n int) int { return (n + 7) &^ 7 }

// fitsEntry reports whether an entry of these lengths can be stored: none
// negative, together at most maxEntry (checked part by part, so that no
// sum wraps).
func fitsEntry(keyLen, valueLen, metaLen int) bool {
	return keyLen >= 0 && valueLen >= 0 && metaLen >= 0 &&
		valueLen <= maxEntry && metaLen <= maxEntry-valueLen && keyLen <= maxEntry-valueLen-metaLen
}

// roomFor returns the bytes after the word that alloc(n) holds: the word
// and n bytes (and metaRoom more in an entry the store lends) rounded up to
// what the allocator gives (allocSize). It allocates nothing.
func roomFor(n int) int {
	if allocSize(wordSize+n)-wordSize >= lendMin {
		n += metaRoom
	}
	return allocSize(wordSize+n) - wordSize
}

func (e slot) meta() []byte {
	if e.metaAt == e.n {
		return nil
	}
	return e.bytes()[e.metaAt:]
}

// size returns the bytes the entry occupies, as Size counts them: its
// whole allocation (the word and the room, whatever part of the room the
// key, value and meta fill), its share of the table and its handle. The
// room, not the bytes written, is charged, so that an entry that keeps a
// larger allocation than its bytes need (meta shortened in place, a
// prepared entry committed with less meta than it had room for, the
// allocator's rounding) is counted at what it holds: charging n left up to
// 14 times Used uncounted on the heap.
func (e slot) size() int64 {
	n := int64(e.room) + entryOverhead
	if e.h != nil {
		n += handleOverhead
	}
	return n
}

// newSlot returns an entry holding copies of key, value and meta (so that
// callers may pass strings over memory they reuse), its word set to word,
// and h, its policy handle (nil under CLOCK).
func newSlot(key string, value, meta []byte, word int64, h *cache.Handle[string]) slot {
	n := entryBytes(len(key), len(value), len(meta))
	buf := alloc(n)
	e := slot{data: &buf[0], n: uint32(n), room: uint32(len(buf) - wordSize), keyLen: uint32(len(key))}
	copy(buf[wordSize:], key)
	e.fill(value, meta)
	e.word().Store(word)
	e.h = h
	return e
}

// rewrite replaces the entry's value and meta and reports whether its data
// moved: it stays in place when the new entry rounds to the allocation's
// size (so that the entry keeps the room it is charged for, and a larger
// allocation than a new one's is never kept), and the allocation is
// smaller than lendMin; else a new allocation takes the word and the key.
// The shard's write lock is held, so no reader sees the bytes change.
func (e *slot) rewrite(value, meta []byte) bool {
	n := entryBytes(int(e.keyLen), len(value), len(meta))
	if room := int(e.room); room < lendMin && roomFor(n) == room {
		e.n = uint32(n) // unpadded: a room below lendMin is
		e.fill(value, meta)
		return false
	}
	buf := alloc(n)
	copy(buf, unsafe.Slice(e.data, wordSize+int(e.keyLen)))
	e.data, e.n, e.room = &buf[0], uint32(n), uint32(len(buf)-wordSize)
	e.fill(value, meta)
	return true
}

// lendMin is the smallest entry (key, value and meta) whose bytes are never
// written again once stored: rewrite puts a replacement in a new
// allocation, so that a reader may keep the value without copying it
// (Lends). Below it, writing over the old bytes saves an allocation on the
// common rewrite of a small value; from it on, the allocation costs little
// beside the copy.
const lendMin = 64 << 10

// Lends reports whether a value of valueLen bytes that ViewMeta hands out
// may be kept after the callback returns: it may from 64 KiB on, since an
// entry that large is never written again once stored (a replacement
// takes a new allocation, and the garbage collector keeps the old one for
// as long as it is referenced). The caller must not modify the value.
func (s *Store) Lends(valueLen int) bool { return valueLen >= lendMin }

// adopt makes a prepared entry's data the entry's, keeping its word and
// handle. The shard's write lock is held.
func (e *slot) adopt(p slot) {
	p.word().Store(e.word().Load())
	e.data, e.n, e.room, e.metaAt = p.data, p.n, p.room, p.metaAt
}

// alloc returns the data for n bytes after the word, as long as the
// allocation really is (roomFor(n) after the word): the allocator rounds
// it up to its size class, and the entry's room, which Used charges, is
// all of it. Allocations of 16 bytes or more are 8-aligned, as atomic
// access to the word wants (the allocator packs smaller ones at any byte;
// the smallest entry, the word and a byte of key, takes 16). An entry the
// store lends gets metaRoom bytes more, so that SetMeta can give a value
// stored without a TTL one where it lies: such an entry is never written
// again but for its meta, and moving it would copy the value.
//
// It is a make of exactly the allocator's size (roomFor rounds as the
// allocator does), not slices.Grow's capacity: under the race detector,
// Grow builds a temporary slice as large as the value first (a 48 MiB
// value took 96 MiB).
func alloc(n int) []byte {
	return make([]byte, wordSize+roomFor(n))
}

// metaRoom is the spare room after a lent entry's meta: a TTL (9 bytes of
// header more) and a pin fit in it.
const metaRoom = 16

// fill copies value and meta after the key (and the padding valueAt
// says); e.n counts them already.
func (e *slot) fill(value, meta []byte) {
	b := e.bytes()
	at := e.valueAt()
	copy(b[at:], value)
	e.metaAt = uint32(at + len(value))
	copy(b[e.metaAt:], meta)
}

// New returns an empty store that chooses victims by CLOCK.
func New() *Store {
	s := &Store{}
	s.hand.Store(shards) // turn 1, shard 0: no word reads as cleared in the current turn
	return s
}

// shard returns key's shard, by the runtime's own string hash (AES-based
// where the CPU has it: a few nanoseconds whatever the key's length).
func (s *Store) shard(key string) (*shard, uint64) {
	h := maphash.String(shardSeed, key)
	return &s.shards[h%shards], h
}

// shardSeed seeds the shard hash, the same for every store of the process.
var shardSeed = maphash.MakeSeed()

// Size returns the bytes a value of n bytes (with its meta) under key
// occupies in a store made by New; Store.Cost says it for any store.
func Size(key string, n int) int64 {
	return int64(roomFor(entryBytes(len(key), n, 0))) + entryOverhead
}

// Size returns the bytes key's entry occupies.
func (s *Store) Size(key string) (int64, error) {
	sh, h := s.shard(key)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if sh.closed {
		return 0, tier.ErrClosed
	}
	e, ok := sh.values.get(key, h)
	if !ok {
		return 0, tier.ErrNotFound
	}
	return e.size(), nil
}

// Cost returns the bytes Put reports for such an entry.
func (s *Store) Cost(keyLen, valueLen, metaLen int) int64 {
	if !fitsEntry(keyLen, valueLen, metaLen) {
		return math.MaxInt64 // never fits: a sum that would wrap must not look small
	}
	n := int64(roomFor(entryBytes(keyLen, valueLen, metaLen))) + entryOverhead
	if s.policy != nil {
		n += handleOverhead
	}
	return n
}

// Put stores a copy of value and meta under key. A value that replaces one of
// about its size is written over it, allocating nothing.
func (s *Store) Put(key string, value, meta []byte) (int64, error) {
	if key == "" {
		return 0, tier.ErrInvalidKey
	}
	return s.put(key, value, meta, nil)
}

// put is Put, of a prepared entry's data in place of value when prepared
// is not nil (its n and metaAt set).
func (s *Store) put(key string, value, meta []byte, prepared *slot) (int64, error) {
	sh, h := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.closed {
		return 0, tier.ErrClosed
	}
	if int64(len(key))+int64(len(value))+int64(len(meta)) > maxEntry {
		return 0, tier.ErrTooLarge
	}
	var e slot
	ref := sh.values.ref(key, h)
	replaced, moved, same := ref != nil, false, false
	if replaced {
		before := *ref
		old := before.size()
		tracked := s.policy != nil && !s.policy.isExempt(before)
		if prepared != nil {
			ref.adopt(*prepared)
			moved = true
		} else {
			moved = ref.rewrite(value, meta)
		}
		if moved {
			s.letGo(before)
		}
		e = *ref
		s.used.Add(e.size() - old)
		same = tracked && !moved && e.size() == old
	} else {
		var hd *cache.Handle[string]
		if s.policy != nil {
			hd = sh.handles.get()
		}
		if prepared != nil {
			e = *prepared
			e.word().Store(s.freshWord())
			e.h = hd
		} else {
			e = newSlot(key, value, meta, s.freshWord(), hd)
		}
		sh.values.insert(h, e)
		s.count.Add(1)
		s.used.Add(e.size())
	}
	switch {
	case s.policy == nil:
		markRead(e.word()) // stored: a second chance under CLOCK, and not idle (a replacement kept the old word)
	case same && !s.policy.isExempt(e):
		// Written over in place at the same size and choosable before and
		// after: the policy's record stands as it is, and the replacement
		// counts as a read, through the buffer (a write then never waits
		// for the policy's lock).
		s.policy.touched(e)
	default:
		s.policy.stored(e, replaced, moved)
	}
	return e.size(), nil
}

// freshWord is the word of a new entry: referenced under CLOCK, as in the
// warm store; under a policy, 0 until stored sets the time.
func (s *Store) freshWord() int64 {
	if s.policy != nil {
		return 0
	}
	return referencedWord
}

// Get appends key's value to dst.
func (s *Store) Get(key string, dst []byte) ([]byte, error) {
	err := s.View(key, func(v []byte) error {
		dst = append(dst, v...)
		return nil
	})
	return dst, err
}

// View calls fn with the stored value itself: fn must not modify it or keep
// it past its return.
func (s *Store) View(key string, fn func(value []byte) error) error {
	return s.ViewMeta(key, func(value, _ []byte) error { return fn(value) })
}

// ViewMeta calls fn with the stored value and meta themselves, under the
// shard's read lock: fn must not modify them, keep them, or call the store.
// Under CLOCK it marks the entry read; a store with a policy learns of reads
// from Touch only, so that its owner says which looks count.
func (s *Store) ViewMeta(key string, fn func(value, meta []byte) error) error {
	return s.viewMeta(key, s.policy == nil, fn)
}

// viewMeta is ViewMeta, marking the entry read for CLOCK only when touch is
// set: the store's own looks (Meta, Size) leave the word as readers left it.
func (s *Store) viewMeta(key string, touch bool, fn func(value, meta []byte) error) error {
	if err := s.none(); err != nil {
		return err
	}
	sh, h := s.shard(key)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if sh.closed {
		return tier.ErrClosed
	}
	e, ok := sh.values.get(key, h)
	if !ok {
		return tier.ErrNotFound
	}
	if touch {
		markRead(e.word())
	}
	return fn(e.value(), e.meta())
}

// Meta returns a copy of key's meta.
func (s *Store) Meta(key string) ([]byte, error) {
	var meta []byte
	err := s.viewMeta(key, false, func(_, m []byte) error {
		meta = append([]byte(nil), m...)
		return nil
	})
	return meta, err
}

// Delete removes key. A store that holds nothing answers without a lock,
// as its reads do: every write to another tier deletes its key here.
func (s *Store) Delete(key string) (int64, error) {
	if err := s.none(); err != nil {
		return 0, err
	}
	sh, h := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.closed {
		return 0, tier.ErrClosed
	}
	e, ok := sh.values.del(key, h)
	if !ok {
		return 0, tier.ErrNotFound
	}
	// The bytes go before the policy hears of it: an owner that finds no
	// victim then never sees them still counted (it would call a tier
	// holding nothing but these bytes full; a victim still named after the
	// entry left is only a key that is gone when the owner looks).
	s.used.Add(-e.size())
	s.count.Add(-1)
	s.letGo(e)
	if s.policy != nil {
		s.policy.removed(e)
		sh.handles.put(e.h, sh.values.n)
	}
	return e.size(), nil
}

// letGo counts the allocation of e, which left the store, as held until the
// garbage collector reclaims it, if it is one the store lends (a reader may
// keep it). Smaller allocations are never handed out past a callback.
func (s *Store) letGo(e slot) {
	if e.room < lendMin {
		return
	}
	n := int64(wordSize) + int64(e.room)
	s.held.Add(n)
	runtime.AddCleanup(e.data, reclaimed, heldBytes{&s.held, n})
}

// heldBytes is what a reclaimed allocation takes off a store's held count.
type heldBytes struct {
	held *atomic.Int64
	n    int64
}

func reclaimed(h heldBytes) { h.held.Add(-h.n) }

// Held returns the bytes of entries of 64 KiB or more that were replaced
// or deleted and that the garbage collector has not reclaimed yet
// (tier.Holder): values readers keep (Lends), and garbage the next
// collections free. Memory beyond Used.
func (s *Store) Held() int64 { return s.held.Load() }

// Scan calls fn for every key with its meta and size, shard by shard; fn runs
// under the shard's read lock and must not call the store.
func (s *Store) Scan(fn func(key string, meta []byte, size int64) error) error {
	for i := range s.shards {
		if err := s.shards[i].scan(fn); err != nil {
			return err
		}
	}
	return nil
}

func (sh *shard) scan(fn func(key string, meta []byte, size int64) error) error {
	return sh.scanSlots(func(e slot) error { return fn(e.key(), e.meta(), e.size()) })
}

// scanSlots calls fn for every entry of the shard under its read lock, until
// fn's first error, in the table's order (the same for two scans of a shard
// that did not change, as ScanValues promises).
func (sh *shard) scanSlots(fn func(e slot) error) error {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if sh.closed {
		return tier.ErrClosed
	}
	var err error
	sh.values.eachFrom(0, func(e slot) bool {
		err = fn(e)
		return err == nil
	})
	return err
}

// ScanValues calls fn for every key with its value and meta, shard by
// shard under the shard's read lock (tier.ValueScanner): fn must not call
// the store, and must not keep key, value or meta past its return.
func (s *Store) ScanValues(fn func(key string, value, meta []byte, bad error) error) error {
	for i := range s.shards {
		sh := &s.shards[i]
		err := sh.scanSlots(func(e slot) error { return fn(e.key(), e.value(), e.meta(), nil) })
		if err != nil {
			return err
		}
	}
	return nil
}

// Used returns the bytes all entries occupy.
func (s *Store) Used() int64 { return s.used.Load() }

// Len returns the number of keys.
func (s *Store) Len() int64 { return s.count.Load() }

var (
	_ tier.Store         = (*Store)(nil)
	_ tier.ValueScanner  = (*Store)(nil)
	_ tier.Holder        = (*Store)(nil)
	_ tier.Sizer         = (*Store)(nil)
	_ tier.VictimChooser = (*Store)(nil)
	_ tier.Lender        = (*Store)(nil)
	_ tier.Preparer      = (*Store)(nil)
)

// none answers a look for a key while the store holds no key, without a
// lock, which would cost a write of a line the other cores share: nil
// while the store holds keys; else tier.ErrNotFound, or tier.ErrClosed once
// Close has begun. A key is counted under its shard's lock before its Put
// returns, so a look after a Put sees it.
func (s *Store) none() error {
	switch {
	case s.count.Load() != 0:
		return nil
	case s.shut.Load():
		return tier.ErrClosed
	}
	return tier.ErrNotFound
}

// Close drops every value (and empties the policy).
func (s *Store) Close() error {
	err := tier.ErrClosed
	s.closed.Do(func() {
		err = nil
		s.shut.Store(true) // before the count goes to 0: see none
		for i := range s.shards {
			sh := &s.shards[i]
			sh.mu.Lock()
			sh.values, sh.handles, sh.closed = table{}, handlePool{}, true
			sh.mu.Unlock()
		}
		if s.policy != nil {
			s.policy.close()
		}
		s.used.Store(0)
		s.count.Store(0)
	})
	return err
}
