package tiermem

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tiermem/tiermem/internal/header"

	"github.com/tiermem/tiermem/cache"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/heap"
)

// victims chooses which entries leave a tier: those to demote when it needs
// room, and those idle long enough to demote anyway. Pinned entries are
// never chosen. Implementations are safe for concurrent use.
type victims interface {
	added(key string, size int64, pinned bool) // a new or replaced entry
	accessed(key string)                       // a read
	removed(key string)                        // the entry left the tier
	next() (string, bool)                      // the next victim, not removed
	nextBut(spare spared) (string, bool)       // the next victim spare does not spare, not removed
	idle(since time.Time, fn func(key string) bool)
}

// switchVictims holds a tier's victims, which SetTierPolicy replaces while
// the tier serves: each call goes to the ones it finds, and, while the new
// ones are being filled, what changes entries goes to those too.
type switchVictims struct{ cur atomic.Pointer[victimsRef] }

// victimsRef is the victims in force and, while a switch fills them, the
// new ones (nil otherwise).
type victimsRef struct{ v, next victims }

func newSwitchVictims(v victims) *switchVictims {
	s := &switchVictims{}
	s.set(v, nil)
	return s
}

func (s *switchVictims) set(v, next victims) { s.cur.Store(&victimsRef{v, next}) }
func (s *switchVictims) get() victims        { return s.cur.Load().v }

func (s *switchVictims) added(key string, size int64, pinned bool) {
	r := s.cur.Load()
	r.v.added(key, size, pinned)
	if r.next != nil {
		r.next.added(key, size, pinned)
	}
}

func (s *switchVictims) removed(key string) {
	r := s.cur.Load()
	r.v.removed(key)
	if r.next != nil {
		r.next.removed(key)
	}
}

func (s *switchVictims) accessed(key string)                            { s.get().accessed(key) }
func (s *switchVictims) next() (string, bool)                           { return s.get().next() }
func (s *switchVictims) nextBut(spare spared) (string, bool)            { return s.get().nextBut(spare) }
func (s *switchVictims) idle(since time.Time, fn func(key string) bool) { s.get().idle(since, fn) }

// policyVictims chooses with a cache.Policy and keeps each key's last read
// time for idleness: about 150 bytes of Go memory per key, and two map
// lookups a read. It serves the tiers whose store keeps no policy of its
// own: a hot store handed over, a warm tier with a policy other than
// CLOCK. The built-in hot store keeps its policy in its entries
// (heapVictims).
type policyVictims struct {
	mu     sync.Mutex // protects policy and last
	policy cache.Policy[string]
	last   map[string]*lastRead // entries that can be chosen, with their last read
	now    func() time.Time
}

func newPolicyVictims(kind cache.Kind, capacity int64, now func() time.Time) (*policyVictims, error) {
	p, err := cache.NewPolicy[string](kind, max(capacity, 1))
	if err != nil {
		return nil, err
	}
	return &policyVictims{policy: p, last: map[string]*lastRead{}, now: now}, nil
}

// lastRead is when an entry was last read; a pointer in the map, so that a
// read updates it without assigning the map, which would replace the key
// kept with the reader's.
type lastRead struct{ at time.Time }

func (v *policyVictims) added(key string, size int64, pinned bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if r, ok := v.last[key]; ok && !pinned {
		// A replaced value that stays choosable keeps its key's place and
		// history, as a read would: no node, key copy or map slot is
		// dropped and made again.
		v.policy.Update(key, max(size, 1))
		v.policy.Access(key)
		r.at = v.now()
		return
	}
	v.policy.Remove(key)
	delete(v.last, key)
	if !pinned {
		key = strings.Clone(key) // kept: callers may pass strings over memory they reuse
		v.policy.Add(key, max(size, 1))
		v.last[key] = &lastRead{at: v.now()}
	}
}

// include adds an unpinned entry the victims do not know of, as added
// would, read last at at; it leaves one they know as it is.
func (v *policyVictims) include(key string, size int64, at time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.last[key]; ok {
		return
	}
	v.policy.Add(key, max(size, 1))
	v.last[key] = &lastRead{at: at}
}

// lastReadOf returns when key was last read, if the victims know it.
func (v *policyVictims) lastReadOf(key string) (time.Time, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if r, ok := v.last[key]; ok {
		return r.at, true
	}
	return time.Time{}, false
}

// setLastRead sets when key, if the victims know it, was last read: a
// Rename gives the new name the old one's.
func (v *policyVictims) setLastRead(key string, at time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if r, ok := v.last[key]; ok {
		r.at = at
	}
}

// accessed records a read, unless another goroutine holds the victims'
// lock: then the read goes unrecorded, as in the caches that drop reads
// when their buffers are full, rather than making every read of the tier
// wait on one lock. A key read often is recorded often enough; idleness is
// measured in minutes.
func (v *policyVictims) accessed(key string) {
	if !v.mu.TryLock() {
		return
	}
	defer v.mu.Unlock()
	if r, ok := v.last[key]; ok {
		v.policy.Access(key)
		r.at = v.now()
	}
}

func (v *policyVictims) removed(key string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.policy.Remove(key)
	delete(v.last, key)
}

func (v *policyVictims) next() (string, bool) { return v.nextBut(nil) }

// nextBut returns the policy's victim; while spare spares it, that key
// counts as read and the policy chooses again, a few times at most (a
// policy may choose the same key again: then there is no victim).
func (v *policyVictims) nextBut(spare spared) (string, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for range 8 {
		key, ok := v.policy.Victim()
		if !ok || spare == nil || !spare(key) {
			return key, ok
		}
		v.policy.Access(key)
	}
	return "", false
}

func (v *policyVictims) idle(since time.Time, fn func(key string) bool) {
	v.mu.Lock()
	var keys []string
	for key, r := range v.last {
		if r.at.Before(since) {
			keys = append(keys, key)
		}
	}
	v.mu.Unlock()
	for _, key := range keys {
		if !fn(key) {
			return
		}
	}
}

// heapVictims chooses with the policy the built-in hot store keeps in its
// entries (heap.NewWithPolicy): each entry holds its policy handle and its
// last read time, so that a read costs no lookup beyond the store's own and
// the tier keeps no map of keys besides the store's. The store learns of
// stores, replacements and deletes from its own Put and Delete (pinned
// values, by their header, are never in the policy) and of counted reads
// from the reads themselves: readTier reads the tier through
// ViewMetaTouch (the tier's toucher), so accessed has nothing left to do.
type heapVictims struct{ store *heap.Store }

func (v heapVictims) added(string, int64, bool) {}
func (v heapVictims) accessed(string)           {}
func (v heapVictims) removed(string)            {}
func (v heapVictims) next() (string, bool)      { return v.store.Victim(nil) }

func (v heapVictims) nextBut(spare spared) (string, bool) {
	if spare == nil {
		return v.store.Victim(nil)
	}
	return v.store.Victim(func(key string, _ []byte) bool { return spare(key) })
}

func (v heapVictims) idle(since time.Time, fn func(key string) bool) {
	v.store.IdleSince(since, fn) // only ErrNoPolicy, which a store of heapVictims never returns
}

// clockVictims chooses with the warm store's own CLOCK reference bits: no
// memory per key. Reads set the bits inside the store; pinned entries are
// recognized by their header.
type clockVictims struct {
	store tier.VictimChooser
	now   func() time.Time
	mu    sync.Mutex // protects swept
	swept time.Time  // when idle last cleared the reference bits
}

func (v *clockVictims) added(string, int64, bool) {}
func (v *clockVictims) accessed(string)           {}
func (v *clockVictims) removed(string)            {}

func (v *clockVictims) next() (string, bool)                { return v.nextBut(nil) }
func (v *clockVictims) nextBut(spare spared) (string, bool) { return v.store.Victim(skipping(spare)) }

// idle reports the keys not read since the previous sweep, provided that
// sweep is at least as old as since: calling it every pass demotes keys idle
// for between DemoteAfter and twice that.
func (v *clockVictims) idle(since time.Time, fn func(key string) bool) {
	v.mu.Lock()
	if v.swept.After(since) {
		v.mu.Unlock()
		return
	}
	v.swept = v.now()
	v.mu.Unlock()
	eachUnpinned(v.store.Idle, fn)
}

// eachUnpinned collects the keys scan offers that no pin holds, then calls
// fn for each until it returns false: fn runs after the scan, whose
// callback runs under the store's locks, so that fn may call the store.
func eachUnpinned(scan func(func(key string, meta []byte) bool), fn func(key string) bool) {
	var keys []string
	scan(func(key string, meta []byte) bool {
		if !skipPinned(key, meta) {
			keys = append(keys, strings.Clone(key)) // valid only in scan's callback: it may be the entry's memory
		}
		return true
	})
	for _, key := range keys {
		if !fn(key) {
			return
		}
	}
}

// spared says which keys a write making room must not demote (the keys
// whose room it is); nil spares none.
type spared func(key string) bool

// sparing returns the spared of one key.
func sparing(key string) spared { return func(k string) bool { return k == key } }

// skipping returns the skip of a store's victim choice: pinned entries and
// those spare spares.
func skipping(spare spared) tier.Skip {
	if spare == nil {
		return skipPinned
	}
	return func(key string, meta []byte) bool { return spare(key) || skipPinned(key, meta) }
}

// skipPinned reports whether an entry's header pins it.
func skipPinned(_ string, meta []byte) bool {
	return header.IsPinned(meta)
}

// ageSampler is what the built-in cold store offers for choosing victims
// with no memory per key (tier/disk's Oldest, LastSeq and WrittenBefore).
type ageSampler interface {
	Oldest(n int, skip tier.Skip) (string, bool)
	LastSeq() uint64
	WrittenBefore(seq uint64, fn func(key string, meta []byte) bool)
}

// sampledVictims chooses the cold tier's victims by write age, from the
// store's own index: of 8 keys sampled at random, the one written first
// leaves (as Redis approximates its eviction), and a key is idle when it
// was not written since the previous sweep. It keeps no memory per key,
// which matters for a tier of millions; reads are not tracked, but a key
// read PromoteHits times within HitWindow is spared by the pass and
// promoted out of cold.
type sampledVictims struct {
	store ageSampler
	now   func() time.Time
	mu    sync.Mutex // protects swept and mark
	swept time.Time  // when idle last swept
	mark  uint64     // the store's LastSeq then
}

func newSampledVictims(s ageSampler, now func() time.Time) *sampledVictims {
	return &sampledVictims{store: s, now: now, swept: now(), mark: s.LastSeq() + 1}
}

func (v *sampledVictims) added(string, int64, bool) {}
func (v *sampledVictims) accessed(string)           {}
func (v *sampledVictims) removed(string)            {}

func (v *sampledVictims) next() (string, bool) { return v.nextBut(nil) }

func (v *sampledVictims) nextBut(spare spared) (string, bool) {
	return v.store.Oldest(victimSample, skipping(spare))
}

// victimSample is how many keys sampledVictims compares.
const victimSample = 8

// idle reports the keys not written since the previous sweep (or, at the
// first, since Open), provided that sweep is at least as old as since:
// calling it every pass demotes keys unwritten for between DemoteAfter and
// twice that.
func (v *sampledVictims) idle(since time.Time, fn func(key string) bool) {
	v.mu.Lock()
	if v.swept.After(since) {
		v.mu.Unlock()
		return
	}
	mark := v.mark
	v.swept, v.mark = v.now(), v.store.LastSeq()+1
	v.mu.Unlock()
	eachUnpinned(func(visit func(string, []byte) bool) { v.store.WrittenBefore(mark, visit) }, fn)
}
