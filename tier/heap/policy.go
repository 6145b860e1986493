package heap

import (
	"fmt"
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

// policy is a store's replacement policy. Each entry holds its handle, so
// a read is recorded with no lookup beyond the store's own, and the entry
// holds its last read time in its word: no memory per key outside the
// entries. The policy's lock is taken after a shard's, never before.
type policy struct {
	mu       sync.Mutex // protects p and the handles in it
	p        *cache.HandlePolicy[string]
	kind     cache.Kind
	capacity int64
	exempt   func(meta []byte) bool
	now      func() time.Time
	idled    atomic.Int64 // when Idle last ran, in Unix ns; 0 before the first
}

// NewWithPolicy returns an empty store that chooses its victims by the
// policy o names and keeps each entry's last read time, for IdleSince. Its
// reads are recorded by Touch (ViewMeta does not record them), so that the
// owner says which looks are reads. It returns an error wrapping
// cache.ErrPolicy for an unknown kind and cache.ErrCapacity for a capacity
// below 1.
func NewWithPolicy(o PolicyOptions) (*Store, error) {
	hp, err := cache.NewHandlePolicy[string](o.Kind, o.Capacity)
	if err != nil {
		return nil, fmt.Errorf("heap: %w", err)
	}
	p := &policy{p: hp, kind: o.Kind, capacity: o.Capacity, exempt: o.Exempt, now: o.Now}
	if p.now == nil {
		p.now = time.Now
	}
	s := New()
	s.policy = p
	return s, nil
}

// isExempt reports whether an entry's meta keeps it out of the policy.
func (p *policy) isExempt(it *item) bool { return p.exempt != nil && p.exempt(it.meta()) }

// stored records a Put of it, new or replacing a value (a replaced value
// that stays choosable keeps its place and history, as a read would); the
// shard's write lock is held.
func (p *policy) stored(it *item, replaced bool) {
	it.word.Store(p.now().UnixNano())
	exempt := p.isExempt(it)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case exempt:
		p.p.Remove(&it.handle)
	case replaced && it.handle.Resident():
		p.p.Update(&it.handle, it.size())
		p.p.Access(&it.handle)
	default:
		p.p.Add(&it.handle, it.key(), it.size())
	}
}

// removed records that it left the store; the shard's write lock is held.
func (p *policy) removed(it *item) {
	p.mu.Lock()
	p.p.Remove(&it.handle)
	p.mu.Unlock()
}

// reset empties the policy, at Close.
func (p *policy) reset() {
	hp, err := cache.NewHandlePolicy[string](p.kind, p.capacity)
	if err != nil {
		return // cannot happen: NewWithPolicy made one of the same kind and capacity
	}
	p.mu.Lock()
	p.p = hp
	p.mu.Unlock()
}

// Touch records a read of key: under a policy, a hit for the policy and the
// entry's last read time; under CLOCK, the entry's reference word (as
// ViewMeta sets it). A key the store does not hold is ignored. The hit goes
// unrecorded when another goroutine holds the policy's lock, rather than
// making every read of the store wait on one lock, as in the caches that
// drop reads when their buffers are full: a key read often is recorded
// often enough. The read time is always recorded.
func (s *Store) Touch(key string) {
	sh, h := s.shard(key)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	it, ok := sh.values.get(key, h)
	if !ok {
		return
	}
	if s.policy == nil {
		markRead(&it.word)
		return
	}
	s.policy.touched(it)
}

// touched records a read of it; its shard's read lock is held, so that it
// stays in the store, and in the policy if it is there.
func (p *policy) touched(it *item) {
	it.word.Store(p.now().UnixNano())
	if !p.mu.TryLock() {
		return
	}
	p.p.Access(&it.handle)
	p.mu.Unlock()
}

// IdleSince calls fn for every key that can be a victim (not exempt) and
// was neither read (Touch) nor stored since since, until fn returns false.
// fn runs with no lock of the store held, so it may call the store; keys
// are collected one shard at a time. A store made by New keeps no such
// times: IdleSince returns ErrNoPolicy.
func (s *Store) IdleSince(since time.Time, fn func(key string) bool) error {
	if s.policy == nil {
		return ErrNoPolicy
	}
	cut := since.UnixNano()
	var keys []string
	for i := range s.shards {
		keys = s.shards[i].idleBefore(cut, s.policy, keys[:0])
		for _, key := range keys {
			if !fn(key) {
				return nil
			}
		}
	}
	return nil
}

// idleBefore appends to keys those of the shard's choosable entries last
// read or stored before cut.
func (sh *shard) idleBefore(cut int64, p *policy, keys []string) []string {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	sh.values.each(func(it *item) bool {
		if it.word.Load() < cut && !p.isExempt(it) {
			keys = append(keys, it.key())
		}
		return true
	})
	return keys
}

// policyVictim is Victim under a policy.
func (s *Store) policyVictim(skip tier.Skip) (string, bool) {
	p := s.policy
	p.mu.Lock()
	h, ok := p.p.Victim()
	var key string
	if ok {
		key = h.Key()
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
	sh.values.each(func(it *item) bool {
		if p.isExempt(it) || skip(it.key(), it.meta()) {
			return true
		}
		key = it.key()
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
	return sh.values.each(func(it *item) bool {
		return it.word.Load() >= cut || p.isExempt(it) || fn(it.key(), it.meta())
	})
}
