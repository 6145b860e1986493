// Package offheap is the warm tier: values in RAM outside the Go heap, so
// that holding millions of them costs the garbage collector nothing, and
// memory is touched only as records are stored.
//
// Records (key, optional meta, value) live in slots of an alloc.Slab over one
// anonymous mapping; values too big for the slab get a mapping each. The
// index is an open-addressing hash table, also outside the heap, 8 bytes a
// slot. Values are compressed with s2 when a sample shows it pays.
//
// The resident memory follows the slab's spans, not Used. A span (a 128th
// of Capacity by default, 4 KiB to 1 MiB) serves one size class, and is
// returned to the system only once its last record is deleted: a record
// deleted from a span that still holds another stays resident, and only a
// record of its own size class reuses its slot. So deleting values lowers
// the RSS only where whole spans empty (a record's own mapping is let go at
// once). What bounds the slab's RSS is each class's peak: a class takes a
// new span only when its spans are full, so its resident spans hold at most
// its peak bytes of slots plus one span, at most Capacity in all. A store
// filled to a budget with records of one size, then left with one key in
// eight by scattered deletes (demotion) and filled to the budget again with
// records of another size class, holds about twice its budget
// (TestHostileRSSAfterScatteredDeletes): Used, which the budget bounds,
// does not count the free slots of partly used spans.
package offheap

import (
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/klauspost/compress/s2"
	"github.com/tiermem/tiermem/internal/gate"
	"github.com/tiermem/tiermem/internal/spin"
	"github.com/tiermem/tiermem/tier"
)

// Options configures a Store; the zero value gives the defaults.
type Options struct {
	// Capacity is the size of the mapping that holds records of up to
	// MaxSmall bytes: address space reserved at Open, RAM only as it is used.
	// Default 1 GiB, at least 4 KiB (ErrOptions).
	Capacity int64
	// MaxSmall is the largest record kept in the slab; larger ones get a
	// mapping of their own. Default 64 KiB, at most 1 MiB (ErrOptions); a
	// Capacity under MaxSmall lowers it to the largest power of two the
	// Capacity holds.
	MaxSmall int64
	// Compress stores values in s2 form when a sample of them compresses to
	// at most 7/8 of its size and the whole value then to at most 7/8.
	Compress bool
}

const shardCount = 64

// Store is the warm tier's storage. It is safe for concurrent use. A View
// holds its shard's read lock while the callback runs; a Put that replaces
// a record of up to maxOverwrite bytes with one of the same size class
// holds the shard's write lock while it copies the new record over the old.
type Store struct {
	space    *space
	shards   [shardCount]shard
	compress bool
	hand     clockHand
	closed   atomic.Bool
	writers  gate.Gate    // records being written outside any shard lock
	used     atomic.Int64 // bytes all records occupy, as Put reports them
	count    atomic.Int64 // keys
}

type shard struct {
	mu      spin.RWMutex // protects idx and the records it points to
	idx     *index
	changes uint64 // counts the changes to idx and its records, under mu: see SetMeta
}

// Hash is the hash the store indexes keys by. It is seeded at random once
// a process (hash/maphash), so that keys a client chose to share a known
// hash (xxhash's collide by construction) spread over the index as any
// keys do, instead of piling into one probe run that every Put and Get of
// them walks under its shard's lock. The index lives in memory only, so
// the seed need not outlive the process.
func Hash(key string) uint64 { return maphash.String(hashSeed, key) }

// hashSeed is Hash's seed.
var hashSeed = maphash.MakeSeed()

// New returns an empty store.
func New(opts *Options) (*Store, error) {
	o := Options{Capacity: 1 << 30, MaxSmall: 64 << 10}
	if opts != nil {
		o.Compress = opts.Compress
		if opts.Capacity > 0 {
			o.Capacity = opts.Capacity
		}
		if opts.MaxSmall > 0 {
			o.MaxSmall = opts.MaxSmall
		}
	}
	sp, err := newSpace(o.Capacity, o.MaxSmall)
	if err != nil {
		return nil, fmt.Errorf("offheap: %w", err)
	}
	s := &Store{space: sp, compress: o.Compress}
	for i := range s.shards {
		if s.shards[i].idx, err = newIndex(minIndexSlots, s.hashAt); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// hashAt returns the hash of the key of the record at loc.
func (s *Store) hashAt(loc uint64) uint64 {
	return maphash.Bytes(hashSeed, readRecord(s.space.record(loc)).key)
}

func (s *Store) shardOf(hash uint64) *shard { return &s.shards[hash>>58] }

// find returns the position of key's slot, its location and record, or -1.
// The shard's lock must be held.
func (s *Store) findLocked(sh *shard, key string, hash uint64) (int, int, uint64, record) {
	var found record
	var loc uint64
	pos, free := sh.idx.find(hash, func(l uint64) bool {
		r := readRecord(s.space.record(l))
		if string(r.key) != key {
			return false
		}
		found, loc = r, l
		return true
	})
	return pos, free, loc, found
}

// Put stores key's value (compressed when it pays) and meta. It runs inside
// the writers' gate, which Close drains before it unmaps the memory.
//
// The key's slot is first looked up under the shard's read lock, which
// brings the slot and the old record into the cache, so that the write lock
// is then held only for a probe that hits the cache and the change. A value
// that replaces one whose record has the same slab size class (the common
// case: a key rewritten with a value of about the same size) is written
// over the old record under the write lock (see overwrite): no slot is
// allocated or freed and the store's counters do not change, so the Put
// touches no memory shared by the whole store. Otherwise the record is
// written to a new slot before the write lock is taken, the key's index
// slot is pointed at it, and the old record is freed after the lock is
// released (no reader can reach it any more: readers that found it held
// the read lock the swap waited for).
func (s *Store) Put(key string, value, meta []byte) (int64, error) {
	tok, err := s.enterWrite(key, meta)
	if err != nil {
		return 0, err
	}
	defer s.writers.Leave(tok)
	hash := Hash(key)
	sh := s.shardOf(hash)
	stored, flags := s.encode(value)
	l := s.layout(int64(len(key)), int64(len(meta)), int64(len(stored)))
	oldSize, _ := s.look(sh, key, hash) // 0 when absent; swapIn finds out again under the write lock
	if s.overwritable(oldSize, l.size()) {
		charged, done, err := s.overwrite(sh, key, hash, l, flags, meta, stored)
		if done || err != nil {
			return charged, err
		}
	}
	loc, charged, err := s.place(l, flags, key, meta, stored)
	if err != nil {
		return 0, err
	}
	old, oldSize, replaced, err := s.swapIn(sh, key, hash, loc)
	if err != nil {
		s.space.free(loc, l.size())
		return 0, err
	}
	s.swapped(charged, replaced, old, oldSize)
	return charged, nil
}

// enterWrite checks a write's key and meta and admits it through the
// writers' gate; the caller calls s.writers.Leave(tok) when it is done.
// A bad key is tier.ErrInvalidKey; meta longer than a record holds is
// tier.ErrTooLarge (it was ErrInvalidKey, which blamed a valid key).
func (s *Store) enterWrite(key string, meta []byte) (gate.Token, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	if err := checkMetaLen(len(meta)); err != nil {
		return 0, err
	}
	tok, ok := s.writers.Enter()
	if !ok {
		return 0, tier.ErrClosed
	}
	return tok, nil
}

// checkKey returns tier.ErrInvalidKey for an empty key or one longer than
// a record holds.
func checkKey(key string) error {
	if len(key) == 0 || len(key) > maxKeyLen {
		return fmt.Errorf("offheap: key of %d bytes, at most %d: %w", len(key), maxKeyLen, tier.ErrInvalidKey)
	}
	return nil
}

// checkMetaLen returns tier.ErrTooLarge for meta longer than a record
// holds: the entry is one the store can never hold, whatever its key.
func checkMetaLen(n int) error {
	if n > maxMetaLen {
		return fmt.Errorf("offheap: meta of %d bytes, at most %d: %w", n, maxMetaLen, tier.ErrTooLarge)
	}
	return nil
}

// swapped counts the charged bytes of a record swapIn put in the index,
// and frees the record it replaced, if any, in one change of the count:
// Used never shows the two records at once (a replacement's room is
// reserved as the difference), so a tier full to its budget never reads
// as over it.
func (s *Store) swapped(charged int64, replaced bool, old uint64, oldSize int64) {
	if replaced {
		charged -= s.space.free(old, oldSize) + indexShare
	}
	s.used.Add(charged)
}

// maxOverwrite is the largest record Put writes over the one it replaces,
// under the shard's write lock: at most about 150 ns of copying at 7 GB/s
// (a 100-byte value: 15 ns), against an alloc and a free under the space's
// one mutex saved. Larger records are written to a new slot outside the
// lock, so that readers of the shard never wait for a long copy.
const maxOverwrite = 1 << 10

// overwritable reports whether a record of size bytes may be written over
// one of oldSize bytes (0: none was found): both in the slab, in the same
// size class, and small enough to copy under the write lock.
func (s *Store) overwritable(oldSize, size int64) bool {
	return oldSize > 0 && size <= maxOverwrite && s.space.small(oldSize) && s.space.small(size) &&
		s.space.charge(oldSize) == s.space.charge(size)
}

// look finds key under the shard's read lock and returns the size of its
// record; it returns tier.ErrNotFound or tier.ErrClosed instead. Put calls
// it for the cache lines key's slot and record sit on, so that it holds the
// write lock only for probes that hit the cache.
func (s *Store) look(sh *shard, key string, hash uint64) (int64, error) {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if s.closed.Load() {
		return 0, tier.ErrClosed
	}
	pos, _, _, r := s.findLocked(sh, key, hash)
	if pos < 0 {
		return 0, tier.ErrNotFound
	}
	return r.layout.size(), nil
}

// overwrite writes the record of layout l over key's present record, under
// the shard's write lock, if that record is still in the slab and in the
// same size class (a Put of the key may have replaced it since look
// looked); done is false when it is not, and the caller places the record
// anew. The slot keeps its location and the key counts as read, as after a
// swap. Readers never see the record half written: they hold the read lock,
// which the write lock excludes, and no view outlives its callback.
func (s *Store) overwrite(sh *shard, key string, hash uint64, l recordLayout, flags uint8, meta, stored []byte) (charged int64, done bool, err error) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s.closed.Load() {
		return 0, false, tier.ErrClosed
	}
	pos, _, loc, old := s.findLocked(sh, key, hash)
	if pos < 0 || loc&largeFlag != 0 || !s.overwritable(old.layout.size(), l.size()) {
		return 0, false, nil
	}
	writeRecord(s.space.slot(loc, l.size()), l, flags, key, meta, stored)
	sh.idx.set(pos, hash, loc)
	sh.changes++
	return s.space.charge(l.size()) + indexShare, true, nil
}

// swapIn points key's slot at loc under the shard's write lock and returns
// the record it replaced, if any.
func (s *Store) swapIn(sh *shard, key string, hash, loc uint64) (old uint64, oldSize int64, replaced bool, err error) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s.closed.Load() {
		return 0, 0, false, tier.ErrClosed
	}
	pos, free, old, oldRec := s.findLocked(sh, key, hash)
	sh.changes++
	if pos >= 0 {
		sh.idx.set(pos, hash, loc)
		return old, oldRec.layout.size(), true, nil
	}
	if err := sh.idx.insert(free, hash, loc); err != nil {
		return 0, 0, false, fmt.Errorf("offheap: growing the index: %w", err)
	}
	s.count.Add(1) // under the lock: Delete reads it without one
	return 0, 0, false, nil
}

// place writes a new record of layout l and returns its location and the
// bytes it occupies (its slot or mapping plus its index slot).
func (s *Store) place(l recordLayout, flags uint8, key string, meta, stored []byte) (uint64, int64, error) {
	loc, m, charged, err := s.space.alloc(l.size())
	if err != nil {
		return 0, 0, err
	}
	writeRecord(m, l, flags, key, meta, stored)
	return loc, charged + indexShare, nil
}

// layout returns the layout of a record: the smallest header form, or the
// large form for a record too big for the slab.
func (s *Store) layout(keyLen, metaLen, storedLen int64) recordLayout {
	l := layoutFor(headerFor(keyLen, metaLen, storedLen), keyLen, metaLen, storedLen)
	if !s.space.small(l.size()) || storedLen > 1<<32-1 {
		l = layoutFor(largeHeader, keyLen, metaLen, storedLen)
		l.pad += metaSpare
	}
	return l
}

// Size returns the bytes key's entry occupies, as Put reported them.
func (s *Store) Size(key string) (int64, error) {
	var n int64
	err := s.peek(key, func(r record) error {
		n = s.space.charge(r.layout.size()) + indexShare
		return nil
	})
	return n, err
}

// Cost returns the bytes Put reports for an entry stored uncompressed: its
// slot (or page-rounded mapping) and its share of the index. A compressed
// entry costs at most that.
func (s *Store) Cost(keyLen, valueLen, metaLen int) int64 {
	if !holdable(keyLen, valueLen, metaLen) {
		return math.MaxInt64 // never fits: a sum that would wrap must not look small
	}
	return s.space.charge(s.layout(int64(keyLen), int64(metaLen), int64(valueLen)).size()) + indexShare
}

// maxRecordValue bounds a value the store can hold: no mapping is larger
// (2^48 bytes, the address space), and record sizes stay far from int64's
// end.
const maxRecordValue = 1 << 48

// holdable reports whether lengths are ones a record can have.
func holdable(keyLen, valueLen, metaLen int) bool {
	return keyLen >= 0 && keyLen <= maxKeyLen && metaLen >= 0 && metaLen <= maxMetaLen && valueLen >= 0 && valueLen <= maxRecordValue
}

// Get appends key's value to dst.
func (s *Store) Get(key string, dst []byte) ([]byte, error) {
	err := s.view(key, func(r record) error {
		var err error
		dst, err = s.decodeAppend(dst, r)
		return err
	})
	return dst, err
}

// View calls fn with key's value. For a value stored uncompressed the slice is
// the off-heap memory itself (8-byte aligned if it has 256 bytes or more);
// for a compressed one it is a decoded copy. It is valid only until fn
// returns and must not be modified; fn runs under a shard's read lock and
// must not call the store.
func (s *Store) View(key string, fn func(value []byte) error) error {
	return s.ViewMeta(key, func(value, _ []byte) error { return fn(value) })
}

// ViewMeta is View with the key's meta (in the off-heap memory too).
func (s *Store) ViewMeta(key string, fn func(value, meta []byte) error) error {
	return s.view(key, func(r record) error {
		if r.flags&flagCompressed == 0 {
			return fn(r.stored, r.meta)
		}
		buf := bufPool.Get().(*[]byte)
		defer bufPool.Put(buf)
		var err error
		if *buf, err = s.decodeAppend((*buf)[:0], r); err != nil {
			return err
		}
		return fn(*buf, r.meta)
	})
}

// Meta returns a copy of key's meta.
func (s *Store) Meta(key string) ([]byte, error) {
	var meta []byte
	err := s.peek(key, func(r record) error {
		meta = append([]byte(nil), r.meta...)
		return nil
	})
	return meta, err
}

// view finds key under its shard's read lock and calls fn with its record,
// marking the key read for CLOCK.
func (s *Store) view(key string, fn func(record) error) error { return s.find(key, true, fn) }

// peek is view for the store's own looks (Meta, Size): the key's reference
// bit stays as the readers left it.
func (s *Store) peek(key string, fn func(record) error) error { return s.find(key, false, fn) }

func (s *Store) find(key string, touch bool, fn func(record) error) error {
	return s.findAt(key, touch, func(_ uint64, r record) error { return fn(r) })
}

// findAt is find whose fn gets the record's location too.
func (s *Store) findAt(key string, touch bool, fn func(loc uint64, r record) error) error {
	if err := s.none(); err != nil {
		return err
	}
	hash := Hash(key)
	sh := s.shardOf(hash)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if s.closed.Load() {
		return tier.ErrClosed
	}
	pos, _, loc, r := s.findLocked(sh, key, hash)
	if pos < 0 {
		return tier.ErrNotFound
	}
	if touch {
		sh.idx.touch(pos)
	}
	return fn(loc, r)
}

// KeyOf returns the key whose hash is hash, if the store holds one.
func (s *Store) KeyOf(hash uint64) (string, bool) {
	sh := s.shardOf(hash)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if s.closed.Load() {
		return "", false
	}
	var key string
	pos, _ := sh.idx.find(hash, func(l uint64) bool {
		r := readRecord(s.space.record(l))
		if maphash.Bytes(hashSeed, r.key) != hash {
			return false
		}
		key = string(r.key)
		return true
	})
	return key, pos >= 0
}

// none answers a look for a key, or its Delete, while the store holds no
// key, without a lock: nil while it holds keys; else tier.ErrNotFound, or
// tier.ErrClosed after Close. A key is counted under its shard's lock, as
// it is indexed, before its Put returns.
func (s *Store) none() error {
	switch {
	case s.count.Load() != 0:
		return nil
	case s.closed.Load():
		return tier.ErrClosed
	}
	return tier.ErrNotFound
}

// Delete removes key and frees its record. While the store holds no key,
// it answers tier.ErrNotFound without a lock (the Manager deletes every
// key it stores in another tier from this one).
func (s *Store) Delete(key string) (int64, error) {
	if err := s.none(); err != nil {
		return 0, err
	}
	hash := Hash(key)
	sh := s.shardOf(hash)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s.closed.Load() {
		return 0, tier.ErrClosed
	}
	pos, _, loc, r := s.findLocked(sh, key, hash)
	if pos < 0 {
		return 0, tier.ErrNotFound
	}
	sh.idx.remove(pos)
	sh.changes++
	freed := s.space.free(loc, r.layout.size()) + indexShare
	s.used.Add(-freed)
	s.count.Add(-1)
	return freed, nil
}

// indexShare is what a key is charged for the index: 8-byte slots at 3/8
// to 3/4 load, where a growing table stays, cost 10.7 to 21.3 bytes a key,
// and the charge is the upper end (it charged 12, the average, and the
// index outgrew the budget by up to a quarter with small values). Deletes
// take a table down to a quarter full before it halves (index.remove), 32
// bytes a key: so the index takes at most 32/22 (under 3/2) of what its
// keys are charged for it, and at most what they are charged from 3/8 full
// on. The index's first 1024 slots a shard (512 KiB in all) are there from
// New on, charged to no key.
const indexShare = 22

// Used returns the bytes all records occupy, with their share of the index.
func (s *Store) Used() int64 { return s.used.Load() }

// Len returns the number of keys.
func (s *Store) Len() int64 { return s.count.Load() }

// Scan calls fn for every key with its meta and the bytes it occupies, shard
// by shard under the shard's read lock: fn must not call the store.
func (s *Store) Scan(fn func(key string, meta []byte, size int64) error) error {
	for i := range s.shards {
		if err := s.scanShard(&s.shards[i], fn); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) scanShard(sh *shard, fn func(key string, meta []byte, size int64) error) error {
	return s.scanRecords(sh, func(r record) error {
		return fn(string(r.key), r.meta, s.space.charge(r.layout.size())+indexShare) // what Put charged
	})
}

// ScanValues calls fn for every key with its value (decompressed) and meta,
// shard by shard under the shard's read lock (tier.ValueScanner): fn must
// not call the store, and must not keep key, value or meta past its return
// (they lie in the store's memory, or in a buffer the next call reuses). A
// compressed value that does not decode is handed to fn as bad (ErrCorrupt),
// with a nil value.
func (s *Store) ScanValues(fn func(key string, value, meta []byte, bad error) error) error {
	buf := bufPool.Get().(*[]byte)
	defer bufPool.Put(buf)
	var locs []uint64
	for i := range s.shards {
		err := s.scanRecordsInOrder(&s.shards[i], &locs, func(r record) error {
			key, value := unsafe.String(unsafe.SliceData(r.key), len(r.key)), r.stored
			if r.flags&flagCompressed != 0 {
				var bad error
				if *buf, bad = s.decodeAppend((*buf)[:0], r); bad != nil {
					return fn(key, nil, r.meta, bad)
				}
				value = *buf
			}
			return fn(key, value, r.meta, nil)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// scanRecords calls fn for every record of sh under its read lock, until
// fn's first error.
func (s *Store) scanRecords(sh *shard, fn func(r record) error) error {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if s.closed.Load() {
		return tier.ErrClosed
	}
	var err error
	sh.idx.each(func(_ int, loc uint64) bool {
		err = fn(readRecord(s.space.record(loc)))
		return err == nil
	})
	return err
}

// scanRecordsInOrder is scanRecords in the order of the records'
// locations, which is their order in memory: a scan of a large store reads
// its memory front to back (a shard's records are every 64th or so), where
// the index's order would miss the cache at every record (a million
// records: 2.9 s of Close, of which 0.6 s reading record headers, before;
// sorting eight shards' records at once gained 3% more, not worth holding
// eight locks). locs is scratch space, reused.
func (s *Store) scanRecordsInOrder(sh *shard, locs *[]uint64, fn func(r record) error) error {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if s.closed.Load() {
		return tier.ErrClosed
	}
	*locs = (*locs)[:0]
	sh.idx.each(func(_ int, loc uint64) bool {
		*locs = append(*locs, loc)
		return true
	})
	slices.Sort(*locs)
	for _, loc := range *locs {
		if err := fn(readRecord(s.space.record(loc))); err != nil {
			return err
		}
	}
	return nil
}

// Stats describes the store's memory.
type Stats struct {
	Items        int   // keys held
	SlabReserved int64 // bytes of slab slots in use
	LargeRecords int   // records in mappings of their own
	LargeBytes   int64 // bytes of those records' pages, as they are charged (a reused mapping's spare tail is discarded, not counted)
	SpareBytes   int64 // bytes of freed large mappings kept for reuse (see Trim)
	HeldBytes    int64 // bytes of mappings whose records left but that open LargeValues keep (see Held)
	IndexBytes   int64 // bytes of the index tables
}

// Stats returns the store's counts.
func (s *Store) Stats() Stats {
	slab, n, bytes, spare, held := s.space.stats()
	st := Stats{SlabReserved: slab.ReservedBytes, LargeRecords: n, LargeBytes: bytes, SpareBytes: spare, HeldBytes: held}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		if s.closed.Load() {
			sh.mu.RUnlock()
			return Stats{}
		}
		st.Items += sh.idx.live
		st.IndexBytes += sh.idx.bytes()
		sh.mu.RUnlock()
	}
	return st
}

// ValueLen returns the length of key's value, decompressed, without
// decompressing it (tier.ValueLener).
func (s *Store) ValueLen(key string) (int64, error) {
	var n int64
	err := s.peek(key, func(r record) error {
		if r.flags&flagCompressed == 0 {
			n = int64(len(r.stored))
			return nil
		}
		l, err := s2.DecodedLen(r.stored)
		if err != nil {
			return fmt.Errorf("offheap: %q: %w: %w", r.key, tier.ErrCorrupt, err)
		}
		n = int64(l)
		return nil
	})
	return n, err
}

// Held returns the bytes of mappings whose records were replaced or
// deleted (or whose store was closed) while LargeValues read them: memory
// beyond Used that the last of those LargeValues to close unmaps
// (tier.Holder). Safe after Close.
func (s *Store) Held() int64 { return s.space.held() }

// Trim returns to the system the mappings of large records freed before
// cutoff, which the store keeps (at most a quarter of its capacity, and 4
// GiB) so that the next large record is written to memory already mapped.
// The Manager calls it every migration pass.
func (s *Store) Trim(cutoff time.Time) { s.space.trim(cutoff) }

// Close frees all the store's memory. After marking the store closed it
// drains the writers' gate and takes every shard's write lock in turn, so
// it waits for the operations in flight, and every operation that begins
// after it sees the mark and returns tier.ErrClosed: nothing touches
// memory that is unmapped.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return tier.ErrClosed
	}
	s.writers.Close()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		if sh.idx != nil {
			sh.idx.close()
		}
		sh.mu.Unlock()
	}
	return s.space.close()
}

var (
	_ tier.Store         = (*Store)(nil)
	_ tier.Trimmer       = (*Store)(nil)
	_ tier.Sizer         = (*Store)(nil)
	_ tier.VictimChooser = (*Store)(nil)
	_ tier.ValueScanner  = (*Store)(nil)
	_ tier.Holder        = (*Store)(nil)
	_ tier.ValueLener    = (*Store)(nil)
)

var bufPool = sync.Pool{New: func() any { return new([]byte) }}
