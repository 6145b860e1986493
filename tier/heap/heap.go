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
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/tiermem/tiermem/cache"
	"github.com/tiermem/tiermem/tier"
)

// entryOverhead approximates the Go memory an entry costs beyond its key and
// value (map slot, entry struct, slice headers), so that budgets count it.
const entryOverhead = 64

// shards spreads the keys over independently locked maps.
const shards = 64

// Store keeps values in Go maps. It is safe for concurrent use; a View holds
// its shard's read lock while the callback runs. Make one with New or
// NewWithPolicy; the zero Store is not usable.
type Store struct {
	shards [shards]shard
	closed sync.Once
	used   atomic.Int64  // bytes of all entries, as Size counts them
	count  atomic.Int64  // keys
	hand   atomic.Uint64 // CLOCK's hand: its turn times shards, plus the shard it is in (clock.go)
	policy *policy       // nil: victims by CLOCK (policy.go)
}

type shard struct {
	mu     sync.RWMutex // protects values, the items in it, and closed
	values table
	closed bool
}

// item is one key's entry. Its data is one allocation holding a private copy
// of the key, then the value, then the meta; the key's bytes are written once
// and never again (a replacing Put writes the value and meta in place, or
// into a new allocation), so strings over them stay valid and unchanged for
// as long as anyone holds them. The shard's lock protects data and metaAt;
// word is read and written atomically.
type item struct {
	handle cache.Handle[string] // its place in the store's policy, if it has one (policy.go)
	data   []byte
	keyLen uint32 // the key's length (tier keys are far shorter than 4 GiB)
	metaAt uint32 // where meta starts in data
	// word is, under CLOCK, the reference word (clock.go); under a policy,
	// when the entry was last read or stored, in Unix nanoseconds.
	word atomic.Int64
}

func (it *item) key() string { return unsafe.String(unsafe.SliceData(it.data), int(it.keyLen)) }
func (it *item) value() []byte {
	return it.data[it.keyLen:it.metaAt:it.metaAt]
}
func (it *item) meta() []byte {
	if int(it.metaAt) == len(it.data) {
		return nil
	}
	return it.data[it.metaAt:]
}

// size returns the bytes the entry occupies, as Size counts them.
func (it *item) size() int64 { return int64(len(it.data)) + entryOverhead }

// newItem returns an entry holding copies of key, value and meta (so that
// callers may pass strings over memory they reuse), its word set by
// fresh.
func newItem(key string, value, meta []byte, fresh int64) *item {
	it := &item{keyLen: uint32(len(key))}
	it.data = make([]byte, len(key)+len(value)+len(meta))
	copy(it.data, key)
	it.fill(value, meta)
	it.word.Store(fresh)
	return it
}

// rewrite replaces the entry's value and meta: in place when they fit its
// allocation and fill at least three quarters of it (so that a value that
// shrinks a lot gives its memory back), else in a new allocation that
// copies the key. The shard's write lock is held.
func (it *item) rewrite(value, meta []byte) {
	need := int(it.keyLen) + len(value) + len(meta)
	if c := cap(it.data); need <= c && need >= c-c/4 {
		it.data = it.data[:need]
	} else {
		data := make([]byte, need)
		copy(data, it.data[:it.keyLen])
		it.data = data
	}
	it.fill(value, meta)
}

// fill copies value and meta after the key.
func (it *item) fill(value, meta []byte) {
	at := int(it.keyLen)
	copy(it.data[at:], value)
	it.metaAt = uint32(at + len(value))
	copy(it.data[it.metaAt:], meta)
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

// Put stores a copy of value and meta under key. A value that replaces one of
// about its size is written over it, allocating nothing.
func (s *Store) Put(key string, value, meta []byte) (int64, error) {
	if key == "" {
		return 0, tier.ErrInvalidKey
	}
	sh, h := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.closed {
		return 0, tier.ErrClosed
	}
	it, replaced := sh.values.get(key, h)
	if replaced {
		old := it.size()
		it.rewrite(value, meta)
		s.used.Add(it.size() - old)
	} else {
		it = newItem(key, value, meta, s.freshWord())
		sh.values.insert(h, it)
		s.count.Add(1)
		s.used.Add(it.size())
	}
	if s.policy != nil {
		s.policy.stored(it, replaced)
	}
	return it.size(), nil
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
	sh, h := s.shard(key)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if sh.closed {
		return tier.ErrClosed
	}
	it, ok := sh.values.get(key, h)
	if !ok {
		return tier.ErrNotFound
	}
	if touch {
		markRead(&it.word)
	}
	return fn(it.value(), it.meta())
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
	it, ok := sh.values.del(key, h)
	if !ok {
		return 0, tier.ErrNotFound
	}
	if s.policy != nil {
		s.policy.removed(it)
	}
	s.used.Add(-it.size())
	s.count.Add(-1)
	return it.size(), nil
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
	sh.values.each(func(it *item) bool {
		err = fn(it.key(), it.meta(), it.size())
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

// Close drops every value (and empties the policy).
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
		if s.policy != nil {
			s.policy.reset()
		}
		s.used.Store(0)
		s.count.Store(0)
	})
	return err
}
