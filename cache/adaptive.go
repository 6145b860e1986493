package cache

// NewAdaptive returns an empty Adaptive policy for a budget of capacity weight
// units (capacity must be at least 1). It is not safe for concurrent use.
//
// Adaptive is window TinyLFU (an LRU admission window in front of a segmented
// LRU main space, entry to which is decided by a frequency sketch with aging)
// whose two knobs are tuned by simulation rather than by hill climbing: the
// window's share of the budget (from 1% to all of it, which is plain LRU) and
// whether a newcomer that ties its victim's frequency gets in. A small sample of
// the keys is replayed through one miniature cache per candidate tuning, and the
// policy switches to the tuning that has been hitting most. It thus follows
// frequency where frequency predicts reuse (database and search traces, loops)
// and recency where it does not (recommendation traces), and changes when the
// workload does. When the popular keys seem to change (LRU's simulation takes
// the lead, or its hits fall while the leader's fall further), the policy tries
// forgetting what it learned of popularity on a copy of the leading simulation,
// and forgets (clears its frequency sketch and unprotects its main space) when
// such trials show that it pays: so a workload whose popular set shifts in
// phases does not wait for aging to wear the old counts down. The tuner also
// counts the policy's own hits on the sampled requests: it changes the
// admission rule only when a simulation with the other rule beats them by 5%
// (a change of rule costs hits that the simulations do not see), and, when it
// simulates every request, it unprotects the main space when the policy hits
// less than 30% of what its simulation hits (keys protected by old reuse that
// newcomers never duel).
//
// The price: 14 miniature caches. A policy that holds more than 8,192 keys
// samples 1 key in 2^n so that each miniature holds 4,096 to 8,192 keys (about
// 10 MB in all, whatever the budget, and a small fraction of requests to
// replay); a smaller policy replays every request in full in each miniature,
// about 15 times the work of plain window TinyLFU. Byte budgets are tuned by
// key counts: the miniatures hold as many keys (sampled) as the policy does.
func NewAdaptive[K comparable](capacity int64) Policy[K] {
	p := newTinyLFU[K](capacity, candidateTunings[0])
	p.tuned = true
	return newKeyed[K](p)
}
