package heap

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/tiermem/tiermem/cache"
	"github.com/tiermem/tiermem/tier"
)

// SetPolicy replaces the replacement policy of a store made by
// NewWithPolicy with a new one of the kind given, sized for capacity,
// while the store serves. The new policy starts with every choosable entry,
// added from the least recently read to the most, so that a recency policy
// keeps the order reads gave; what the old one learned besides (frequencies,
// its queues' split) is not carried over. It holds every shard's lock while
// it runs: O(entries). Errors: ErrNoPolicy for a store made by New (CLOCK
// is not switched at run time), an error wrapping cache.ErrPolicy or
// cache.ErrCapacity as NewWithPolicy's, tier.ErrClosed after Close.
func (s *Store) SetPolicy(kind cache.Kind, capacity int64) error {
	p := s.policy
	if p == nil {
		return ErrNoPolicy
	}
	hp, err := cache.NewHandlePolicy[string](kind, capacity)
	if err != nil {
		return fmt.Errorf("heap: %w", err)
	}
	for i := range s.shards {
		s.shards[i].mu.Lock()
		defer s.shards[i].mu.Unlock()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return tier.ErrClosed
	}
	p.hits.drain(func([]*cache.Handle[string]) {}) // reads of the old policy's handles: dropped
	var choosable []slot
	for i := range s.shards {
		s.shards[i].values.each(func(e slot) bool {
			if e.h != nil && e.h.Resident() {
				choosable = append(choosable, e)
			}
			return true
		})
	}
	slices.SortFunc(choosable, func(a, b slot) int { return cmp.Compare(a.word().Load(), b.word().Load()) })
	for _, e := range choosable {
		p.p.Remove(e.h)
		hp.Add(e.h, e.key(), e.size())
	}
	p.p = hp
	return nil
}
