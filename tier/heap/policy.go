package heap

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tiermem/tiermem/cache"
	"github.com/tiermem/tiermem/tier"
)

// PolicyOptions configure a store that chooses its victims by a replacement
// policy of package cache (NewWithPolicy).
type PolicyOptions struct {
	// Kind is the policy; the zero value is cache.Adaptive.
	Kind cache.Kind
	// Capacity is the budget the policy sizes its queues for, in the bytes
	// Size counts (the tier's budget); at least 1.
	Capacity int64
	// Exempt reports, from an entry's meta, that the entry must never be a
	// victim (the Manager's pinned values): such an entry is in the policy
	// only while a later Put's meta says otherwise. nil exempts none. It is
	// called under a shard's lock and must not call the store.
	Exempt func(meta []byte) bool
	// Now is the clock of the read and store times that IdleSince compares;
	// nil is time.Now.
	Now func() time.Time
}

// policy is a store's replacement policy. Each entry holds its handle and,
// in its data's word, its last read time: no memory per key outside the
// entries. Stores and deletes tell the policy at once, under its lock;
// reads (Touch) only file the entry's handle in a lossy buffer that the
// policy's goroutine hands to the policy in batches, so that a read never
// waits for the policy's lock nor pays for its bookkeeping. The lock is
// taken after a shard's, never before.
type policy struct {
	mu     sync.Mutex // protects p, closed and the handles in p
	p      *cache.HandlePolicy[string]
	closed bool
	exempt func(meta []byte) bool
	now    func() time.Time
	idled  atomic.Int64 // when Idle last ran, in Unix ns; 0 before the first
	// activeFrom is at or below the last read or store time of every
	// choosable entry, in Unix ns (IdleSince): the lowest int64 until a full
	// IdleSince.
	activeFrom atomic.Int64
	hits       hitBuffer
	wake       chan struct{} // a stripe of hits filled: drain
	stop       chan struct{} // closed by close
	done       chan struct{} // closed when the goroutine returns
}

// NewWithPolicy returns an empty store that chooses its victims by the
// policy o names and keeps each entry's last read time, for IdleSince. Its
// reads are recorded by Touch (ViewMeta does not record them), so that the
// owner says which looks are reads. It starts a goroutine that hands reads
// to the policy, until Close. It returns an error wrapping cache.ErrPolicy
// for an unknown kind and cache.ErrCapacity for a capacity below 1.
func NewWithPolicy(o PolicyOptions) (*Store, error) {
	hp, err := cache.NewHandlePolicy[string](o.Kind, o.Capacity)
	if err != nil {
		return nil, fmt.Errorf("heap: %w", err)
	}
	p := &policy{p: hp, exempt: o.Exempt, now: o.Now,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	if p.now == nil {
		p.now = time.Now
	}
	p.activeFrom.Store(math.MinInt64)
	s := New()
	s.policy = p
	go p.run()
	return s, nil
}

// run hands buffered reads to the policy whenever a stripe fills, until
// close.
func (p *policy) run() {
	defer close(p.done)
	for {
		select {
		case <-p.stop:
			return
		case <-p.wake:
		}
		p.mu.Lock()
		p.drainLocked()
		p.mu.Unlock()
	}
}

// drainLocked hands the buffered reads to the policy; its lock is held. A
// handle whose entry left meanwhile is not resident: the policy ignores it.
func (p *policy) drainLocked() {
	if p.closed {
		return
	}
	p.hits.drain(p.p.AccessAll)
}

// isExempt reports whether an entry's meta keeps it out of the policy.
func (p *policy) isExempt(e slot) bool { return p.exempt != nil && p.exempt(e.meta()) }

// stored records a Put of e, new or replacing a value (a replaced value
// that stays choosable keeps its place and history, as a read would);
// moved says its data moved. The shard's write lock is held.
func (p *policy) stored(e slot, replaced, moved bool) {
	e.word().Store(p.now().UnixNano())
	exempt := p.isExempt(e)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.closed:
	case exempt:
		p.p.Remove(e.h)
	case replaced && e.h.Resident():
		if moved {
			p.p.Rekey(e.h, e.key()) // the old data's key would keep it alive
		}
		p.p.Update(e.h, e.size())
		p.p.Access(e.h)
	default:
		p.p.Add(e.h, e.key(), e.size())
	}
}

// removed records that e left the store; the shard's write lock is held.
func (p *policy) removed(e slot) {
	p.mu.Lock()
	if !p.closed {
		p.p.Remove(e.h)
	}
	p.mu.Unlock()
}

// close stops the goroutine and the policy, at Close.
func (p *policy) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	close(p.stop)
	<-p.done
}

// Touch records a read of key: under a policy, the entry's last read time
// and a hit for the policy; under CLOCK, the entry's reference word (as
// ViewMeta sets it). A key the store does not hold is ignored. Hits reach
// the policy through a lossy buffer: when it is full (the policy's
// goroutine is behind) a hit is dropped, as in the caches that sample
// reads under load; a key read often is recorded often enough. The read
// time is always recorded.
func (s *Store) Touch(key string) {
	sh, h := s.shard(key)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	e, ok := sh.values.get(key, h)
	if !ok {
		return
	}
	if s.policy == nil {
		markRead(e.word())
		return
	}
	s.policy.touched(e)
}

// ViewMetaTouch is ViewMeta followed, when fn returns nil, by Touch, in
// one lookup: the read of an owner that counts its reads as they succeed.
func (s *Store) ViewMetaTouch(key string, fn func(value, meta []byte) error) error {
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
	if err := fn(e.value(), e.meta()); err != nil {
		return err
	}
	if s.policy == nil {
		markRead(e.word())
	} else {
		s.policy.touched(e)
	}
	return nil
}

// touched records a read of e; its shard's read lock is held. The read
// goes to a stripe of the buffer picked at random, so that the readers of
// one hot key do not all meet on one stripe.
func (p *policy) touched(e slot) {
	now, w := p.now().UnixNano(), e.word()
	for old := w.Load(); now-old >= int64(readTimeGrain); old = w.Load() {
		if w.CompareAndSwap(old, now) { // a racing read's later time is never put back
			break
		}
	}
	if p.hits.add(e.h, rand.Uint64()) {
		select {
		case p.wake <- struct{}{}:
		default: // a drain is due already
		}
	}
}

// readTimeGrain is how far apart read times are recorded: a read within
// it of the recorded one leaves the word as it is, so that a key read from
// every core does not move its word's cache line between them at each
// read. Idleness is measured in seconds and more; IdleSince may find a key
// idle up to this much early.
const readTimeGrain = time.Millisecond

// IdleSince calls fn for every key that can be a victim (not exempt) and
// was neither read (Touch) nor stored since since, until fn returns false.
// fn runs with no lock of the store held, so it may call the store; keys
// are collected one shard at a time. A store made by New keeps no such
// times: IdleSince returns ErrNoPolicy.
//
// A call that goes through every entry keeps a bound below every choosable
// entry's last read or store (the oldest it saw, and no later than its
// start, since the times of later stores and reads are later), and a later
// call whose since is not past that bound returns at once, having nothing
// to find: a tier scanned every second for keys idle ten minutes looks at
// its entries only when one of them can be idle. The bound assumes the
// store's clock (PolicyOptions.Now) never goes back; if it does, keys are
// found idle later than they are, never earlier.
func (s *Store) IdleSince(since time.Time, fn func(key string) bool) error {
	p := s.policy
	if p == nil {
		return ErrNoPolicy
	}
	if s.shut.Load() {
		return tier.ErrClosed
	}
	cut := since.UnixNano()
	if cut <= p.activeFrom.Load() {
		return nil
	}
	low := p.now().UnixNano()
	var keys []string
	for i := range s.shards {
		keys, low = s.shards[i].idleBefore(cut, p, keys[:0], low)
		for _, key := range keys {
			if !fn(key) {
				return nil // the bound stays as it was: still a bound, as times only grow
			}
			if w, ok := s.readTime(key); ok { // still here (fn kept it): idle again next time
				low = min(low, w)
			}
		}
	}
	p.activeFrom.Store(low)
	return nil
}

// idleBefore appends to keys those of the shard's choosable entries last
// read or stored before cut, and returns low lowered to the oldest time of
// those that are not.
func (sh *shard) idleBefore(cut int64, p *policy, keys []string, low int64) ([]string, int64) {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	sh.values.each(func(e slot) bool {
		if p.isExempt(e) {
			return true
		}
		if w := e.word().Load(); w < cut {
			keys = append(keys, strings.Clone(e.key())) // not the entry's memory, which it would keep alive
		} else {
			low = min(low, w)
		}
		return true
	})
	return keys, low
}

// LastUse returns when key's entry was last read (Touch) or stored, for a
// store made by NewWithPolicy that holds it; false for a store made by New
// (CLOCK keeps reference words, not times) or a key it does not hold.
func (s *Store) LastUse(key string) (time.Time, bool) {
	if s.policy == nil {
		return time.Time{}, false
	}
	sh, h := s.shard(key)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	e, ok := sh.values.get(key, h)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(0, e.word().Load()), true
}

// SetLastUse sets when key's entry was last used, for a store made by
// NewWithPolicy that holds it, and reports whether it did: a value the
// Manager renames keeps its idle time. Safe for concurrent use.
func (s *Store) SetLastUse(key string, at time.Time) bool {
	if s.policy == nil {
		return false
	}
	sh, h := s.shard(key)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	e, ok := sh.values.get(key, h)
	if !ok {
		return false
	}
	e.word().Store(at.UnixNano())
	return true
}

// readTime returns when key's entry was last read or stored, if the store
// holds it as a choosable entry.
func (s *Store) readTime(key string) (int64, bool) {
	sh, h := s.shard(key)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	e, ok := sh.values.get(key, h)
	if !ok || s.policy.isExempt(e) {
		return 0, false
	}
	return e.word().Load(), true
}

// policyVictim is Victim under a policy: the reads buffered so far count.
func (s *Store) policyVictim(skip tier.Skip) (string, bool) {
	p := s.policy
	p.mu.Lock()
	var h *cache.Handle[string]
	ok := false
	if !p.closed {
		p.drainLocked()
		h, ok = p.p.Victim()
	}
	var key string
	if ok {
		key = strings.Clone(h.Key()) // not the entry's memory, which it would keep alive
	}
	p.mu.Unlock()
	if !ok {
		return "", false
	}
	if skip == nil {
		return key, true
	}
	exempt := false
	err := s.viewMeta(key, false, func(_, meta []byte) error {
		exempt = skip(key, meta)
		return nil
	})
	if err != nil || !exempt { // gone meanwhile: the caller finds that out
		return key, true
	}
	return s.firstChoosable(skip)
}

// firstChoosable returns the first key, in the shards' order, that neither
// the store's Exempt nor skip exempts.
func (s *Store) firstChoosable(skip tier.Skip) (string, bool) {
	for i := range s.shards {
		if key, ok := s.shards[i].firstChoosable(s.policy, skip); ok {
			return key, true
		}
	}
	return "", false
}

func (sh *shard) firstChoosable(p *policy, skip tier.Skip) (string, bool) {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	var key string
	sh.values.each(func(e slot) bool {
		if p.isExempt(e) || skip(e.key(), e.meta()) {
			return true
		}
		key = e.key()
		return false
	})
	return key, key != ""
}

// policyIdle is Idle under a policy: the keys that can be victims, last
// read or stored before the previous call.
func (s *Store) policyIdle(fn func(key string, meta []byte) bool) {
	cut := s.policy.idled.Swap(s.policy.now().UnixNano())
	for i := range s.shards {
		if !s.shards[i].idleFn(cut, s.policy, fn) {
			return
		}
	}
}

func (sh *shard) idleFn(cut int64, p *policy, fn func(key string, meta []byte) bool) bool {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return sh.values.each(func(e slot) bool {
		return e.word().Load() >= cut || p.isExempt(e) || fn(e.key(), e.meta())
	})
}
