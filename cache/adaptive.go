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
// workload does.
func NewAdaptive[K comparable](capacity int64) Policy[K] {
	p := newTinyLFU[K](capacity, candidateTunings[0])
	p.tuned = true
	return p
}
