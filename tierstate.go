package tiermem

import (
	"fmt"
	"sync/atomic"

	"github.com/tiermem/tiermem/tier"
)

// tierState is the Manager's view of one tier: its store, its budget and its
// victims. What the tier holds is counted by the store itself (tier.Sized);
// the Manager adds the room it has reserved for writes in flight, so that
// used + reserved never passes the budget.
type tierState struct {
	level      Tier
	store      tier.Store
	meta       tier.MetaViewer
	sized      tier.Sized
	persistent bool // its data survives Close and crashes
	capacity   int64
	reserved   atomic.Int64 // room taken by writes in flight
	victims    victims      // nil for the last tier: nothing below to demote to
	overhead   int64        // a bound on the bytes an entry costs beyond key, meta and value

	promotions, demotions, evictions, expirations atomic.Int64
}

func newTierState(level Tier, store tier.Store, capacity, overhead int64) (*tierState, error) {
	meta, ok1 := store.(tier.MetaViewer)
	sized, ok2 := store.(tier.Sized)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("tiermem: the %s store %T cannot read meta with values or report its size", level, store)
	}
	_, persistent := store.(tier.Persistent)
	return &tierState{level: level, store: store, meta: meta, sized: sized, persistent: persistent,
		capacity: capacity, overhead: overhead}, nil
}

// used returns the bytes the tier's entries occupy plus the room reserved.
func (t *tierState) used() int64 { return t.sized.Used() + t.reserved.Load() }

// estimate bounds the bytes an entry will occupy in the tier.
func (t *tierState) estimate(key string, value, meta int) int64 {
	n := int64(len(key) + value + meta)
	return n + n/16 + t.overhead // size classes are at most 1/16 apart
}

// tryReserve takes n bytes of the budget if they fit.
func (t *tierState) tryReserve(n int64) bool {
	for {
		r := t.reserved.Load()
		if t.sized.Used()+r+n > t.capacity {
			return false
		}
		if t.reserved.CompareAndSwap(r, r+n) {
			return true
		}
	}
}

// unreserve gives back a reservation once the write it was for is done (its
// bytes are then counted by the store) or abandoned.
func (t *tierState) unreserve(n int64) { t.reserved.Add(-n) }

// full describes the tier for an ErrNoSpace message.
func (t *tierState) full() string {
	return fmt.Sprintf("%s tier full (%d of %d bytes)", t.level, t.used(), t.capacity)
}

// has reports whether the tier holds key, without reading its value.
func (t *tierState) has(key string) bool {
	_, err := t.meta.Meta(key)
	return err == nil
}
