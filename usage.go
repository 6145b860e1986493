package tiermem

import "github.com/tiermem/tiermem/tier"

// TierUsage is what one tier holds.
type TierUsage struct {
	Used     int64   // bytes its entries occupy (compressed size, with per-entry overhead)
	Capacity int64   // its byte budget; 0 for a glacier tier without one
	Percent  float64 // 100 × Used / Capacity; 0 without a budget
	Items    int64   // keys it holds
	// Held is memory of values that left the tier (replaced, deleted,
	// moved) that readers may still hold: a large warm value an open
	// ValueReader reads (until it is closed), and every hot allocation of
	// 64 KiB or more that left, whether RetrieveShared or ViewShared handed
	// it out or not, until the garbage collector reclaims it. No budget
	// counts it; the process uses it beside Used.
	Held int64
	// Streaming is the room reserved in the tier for values being read
	// from their streams (StoreFrom: a large SET over RESP, an HTTP PUT)
	// and not yet stored: the tier's budget counts it beside Used, and the
	// process holds the part already read.
	Streaming int64
}

// Usage is what each tier holds, indexed by Tier: u[tiermem.Hot].Percent.
// A tier this Manager does not have (glacier, when disabled) is zero.
type Usage [Glacier + 1]TierUsage

// Usage returns what each tier holds now.
func (m *Manager) Usage() Usage {
	var u Usage
	for _, t := range m.tiers {
		used, capacity := t.store.Used(), t.capacity()
		u[t.level] = TierUsage{Used: used, Capacity: capacity, Items: t.store.Len(), Streaming: t.streaming.Load()}
		if h, ok := t.store.(tier.Holder); ok {
			u[t.level].Held = h.Held()
		}
		if capacity == unbounded {
			u[t.level].Capacity = 0
		}
		u[t.level].Percent = percentOf(used, u[t.level].Capacity)
	}
	return u
}

// TierStats counts what moved in and out of one tier since Open.
type TierStats struct {
	Promotions  int64 // entries moved up into this tier
	Demotions   int64 // entries moved down out of this tier (for room, idleness or by Move)
	Evictions   int64 // the demotions made because the tier needed room
	Expirations int64 // entries deleted because their TTL ran out
}

// Stats is a snapshot of the Manager's counters.
type Stats struct {
	Tiers         [Glacier + 1]TierStats
	Passes        int64  // background migration passes run
	FailedPasses  int64  // passes that returned an error
	LastPassError string // the error of the latest failed pass
}

// Stats returns the Manager's counters.
func (m *Manager) Stats() Stats {
	var s Stats
	for _, t := range m.tiers {
		s.Tiers[t.level] = TierStats{
			Promotions: t.promotions.Load(), Demotions: t.demotions.Load(),
			Evictions: t.evictions.Load(), Expirations: t.expirations.Load(),
		}
	}
	s.Passes, s.FailedPasses = m.passes.Load(), m.failedPasses.Load()
	if e, ok := m.lastPassError.Load().(string); ok {
		s.LastPassError = e
	}
	return s
}
