// Package heap is the hot tier without a GPU: values in live Go memory,
// uncompressed, read in place.
package heap

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/tiermem/tiermem/tier"
)

// entryOverhead approximates the Go memory an entry costs beyond its key and
// value (map slot, entry struct, slice headers), so that budgets count it.
const entryOverhead = 64

// shards spreads the keys over independently locked maps.
const shards = 64

// Store keeps values in Go maps. It is safe for concurrent use; a View holds
// its shard's read lock while the callback runs.
type Store struct {
	shards [shards]shard
	closed sync.Once
	used   atomic.Int64  // bytes of all entries, as Size counts them
	count  atomic.Int64  // keys
	hand   atomic.Uint64 // CLOCK's hand: its turn times shards, plus the shard it is in (clock.go)
}

type shard struct {
	mu     sync.RWMutex // protects values and closed
	values table
	closed bool
}

// entry is a value (a private copy) followed by its meta. The same
// allocation holds, past the meta, the entry's reference word (see clock.go)
// and the key the map keeps.
type entry struct {
	buf    []byte // value and meta; its capacity runs on to the key's end
	metaAt uint32 // where meta starts in buf
	keyLen uint32 // the key's length (tier keys are far shorter than 4 GiB)
}

func (e entry) value() []byte { return e.buf[:e.metaAt:e.metaAt] }
func (e entry) meta() []byte {
	if int(e.metaAt) == len(e.buf) {
		return nil
	}
	return e.buf[e.metaAt:]
}

// refAt returns where the reference word starts in an allocation for a
// value and meta of n bytes: 4-aligned, for the atomic operations on it.
func refAt(n int) int { return (n + 3) &^ 3 }

// ref returns the entry's reference word.
func (e entry) ref() *uint32 {
	at := refAt(len(e.buf))
	return (*uint32)(unsafe.Pointer(&e.buf[:at+4][at]))
}

// New returns an empty store.
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

// Size returns the bytes a value of n bytes under key occupies.
func Size(key string, n int) int64 { return int64(len(key)+n) + entryOverhead }

// Size returns the bytes key's entry occupies.
func (s *Store) Size(key string) (int64, error) {
	var n int64
	err := s.viewMeta(key, false, func(value, meta []byte) error {
		n = Size(key, len(value)+len(meta))
		return nil
	})
	return n, err
}

// Cost returns the bytes Put reports for such an entry.
func (s *Store) Cost(keyLen, valueLen, metaLen int) int64 {
	return int64(keyLen+valueLen+metaLen) + entryOverhead
}

// Put stores a copy of value and meta under key.
func (s *Store) Put(key string, value, meta []byte) (int64, error) {
	if key == "" {
		return 0, tier.ErrInvalidKey
	}
	e := newEntry(key, value, meta)
	n := len(e.buf)
	sh, h := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.closed {
		return 0, tier.ErrClosed
	}
	if old, ok := sh.values.set(key, h, e); ok {
		s.used.Add(-Size(key, len(old.buf)))
	} else {
		s.count.Add(1)
	}
	s.used.Add(Size(key, n))
	return Size(key, n), nil
}

// newEntry returns an entry holding copies of value and meta, and of key
// (so that callers may pass strings over memory they reuse). One allocation
// holds the value, the meta, the reference word and the key; its size is a
// multiple of 8, so that the allocator aligns it (and the reference word)
// for atomic access.
func newEntry(key string, value, meta []byte) entry {
	n := len(value) + len(meta)
	at := refAt(n)
	buf := make([]byte, (at+4+len(key)+7)&^7)
	copy(buf, value)
	copy(buf[len(value):], meta)
	copy(buf[at+4:], key)
	*(*uint32)(unsafe.Pointer(&buf[at])) = referencedWord // a fresh entry counts as referenced, as in the warm store
	return entry{buf: buf[:n], metaAt: uint32(len(value)), keyLen: uint32(len(key))}
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
func (s *Store) ViewMeta(key string, fn func(value, meta []byte) error) error {
	return s.viewMeta(key, true, fn)
}

// viewMeta is ViewMeta, marking the entry read for CLOCK only when touch is
// set: the store's own looks (Meta, Size) leave the word as readers left it.
func (s *Store) viewMeta(key string, touch bool, fn func(value, meta []byte) error) error {
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
		markRead(e.ref())
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

// Delete removes key.
func (s *Store) Delete(key string) (int64, error) {
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
	s.used.Add(-Size(key, len(e.buf)))
	s.count.Add(-1)
	return Size(key, len(e.buf)), nil
}

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
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if sh.closed {
		return tier.ErrClosed
	}
	var err error
	sh.values.each(func(key string, e entry) bool {
		err = fn(key, e.meta(), Size(key, len(e.buf)))
		return err == nil
	})
	return err
}

// Used returns the bytes all entries occupy.
func (s *Store) Used() int64 { return s.used.Load() }

// Len returns the number of keys.
func (s *Store) Len() int64 { return s.count.Load() }

var (
	_ tier.Store         = (*Store)(nil)
	_ tier.Sizer         = (*Store)(nil)
	_ tier.VictimChooser = (*Store)(nil)
)

// Close drops every value.
func (s *Store) Close() error {
	err := tier.ErrClosed
	s.closed.Do(func() {
		err = nil
		for i := range s.shards {
			sh := &s.shards[i]
			sh.mu.Lock()
			sh.values, sh.closed = table{}, true
			sh.mu.Unlock()
		}
		s.used.Store(0)
		s.count.Store(0)
	})
	return err
}
