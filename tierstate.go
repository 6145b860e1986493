package tiermem

import (
	"fmt"
	"sync/atomic"

	"github.com/tiermem/tiermem/tier"
)

// tierState is the Manager's view of one tier: its store, its budget and its
// victims. What the tier holds is counted by the store itself (Used); the
// Manager adds the room it has reserved for writes in flight, so that used +
// reserved never passes the budget.
type tierState struct {
	level      Tier
	store      tier.Store
	persistent tier.Persistent     // the store, if its data survives Close and crashes
	getter     tier.MetaGetter     // the store, if it reads into a caller's buffer
	sizer      tier.Sizer          // the store, if it reports one entry's size
	lender     tier.Lender         // the store, if some values it hands out may be kept
	valueLener tier.ValueLener     // the store, if it tells a value's length cheaper than a read gives it (see openTiers)
	preparer   tier.LookupPreparer // the store, if it can prepare a batch of lookups (PrepareLookups)
	budget     atomic.Int64        // the tier's budget in bytes: SetBudget changes it
	reserved   atomic.Int64        // room taken by writes in flight
	streaming  atomic.Int64        // the part of reserved that streams hold (StoreFrom), for as long as their readers take
	victims    *switchVictims      // nil for the last tier: nothing below to demote to
	policy     atomic.Int32        // the tier's Policy: its TierOptions' until SetTierPolicy
	// toucher is the store, when its counted reads go through it so that
	// the read is recorded in the same lookup (heapVictims).
	toucher viewToucher

	promotions, demotions, evictions, expirations atomic.Int64

	idleScanned atomic.Int64 // when a pass last looked for idle entries (cold only), in Unix ns

	// fullAt is what the tier used when a promotion found no room in it
	// during the current pass (0: none did): reads stop queueing keys for
	// it until it uses less or the next pass begins.
	fullAt atomic.Int64
}

// viewToucher reads a value and, when the callback succeeds, records the
// read for the store's own victim choice (tier/heap's ViewMetaTouch).
type viewToucher interface {
	ViewMetaTouch(key string, fn func(value, meta []byte) error) error
}

func newTierState(level Tier, store tier.Store, capacity int64) *tierState {
	t := &tierState{level: level, store: store}
	t.budget.Store(capacity)
	t.persistent, _ = store.(tier.Persistent)
	t.getter, _ = store.(tier.MetaGetter)
	t.sizer, _ = store.(tier.Sizer)
	t.lender, _ = store.(tier.Lender)
	t.valueLener, _ = store.(tier.ValueLener)
	t.preparer, _ = store.(tier.LookupPreparer)
	return t
}

// lends reports whether a lent read of a value of n bytes gets the store's
// own memory (tier.Lender) rather than a copy.
func (t *tierState) lends(n int) bool { return t.lender != nil && t.lender.Lends(n) }

// capacity returns the tier's budget in bytes.
func (t *tierState) capacity() int64 { return t.budget.Load() }

// used returns the bytes the tier's entries occupy plus the room reserved.
func (t *tierState) used() int64 { return t.store.Used() + t.reserved.Load() }

// estimate bounds the bytes an entry will occupy in the tier.
func (t *tierState) estimate(key string, value, meta int) int64 {
	return t.store.Cost(len(key), value, meta)
}

// fits returns an error wrapping ErrTooLarge if an entry of n bytes, for a
// value of size bytes, exceeds the tier's whole budget.
func (t *tierState) fits(n int64, size int) error {
	if n > t.capacity() {
		return fmt.Errorf("%w: a value of %d bytes takes %d bytes in the %s tier with its key and header, more than the tier's whole budget of %d",
			ErrTooLarge, size, n, t.level, t.capacity())
	}
	return nil
}

// free returns the room in the tier's budget that streams in flight do
// not hold: the most an entry placed there now could be given.
func (t *tierState) free() int64 { return t.capacity() - t.streaming.Load() }

// tryReserve takes n bytes of the budget if they fit.
func (t *tierState) tryReserve(n int64) bool {
	for {
		r := t.reserved.Load()
		if t.store.Used()+r+n > t.capacity() {
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
	return fmt.Sprintf("%s tier full (%d of %d bytes)", t.level, t.used(), t.capacity())
}

// whyFull says why no room can be made in the tier, for an ErrNoSpace
// message: it is the last tier, or everything it holds is pinned.
func (t *tierState) whyFull() string {
	if t.victims == nil {
		return t.full() + ", and it is the last tier: nothing can be demoted out of it"
	}
	return t.full() + ", and every entry in it is pinned"
}

// sizeOf returns the bytes key's entry occupies in the tier: 0 if it is
// not there, or the store cannot tell.
func (t *tierState) sizeOf(key string) int64 {
	if t.sizer == nil {
		return 0
	}
	n, err := t.sizer.Size(key)
	if err != nil {
		return 0
	}
	return n
}

// has reports whether the tier holds key, without reading its value.
func (t *tierState) has(key string) bool {
	_, err := t.store.Meta(key)
	return err == nil
}
