package cache

// tuner picks the tuning of an Adaptive policy by simulation: it replays a
// spatially sampled share of the requests (keys whose hash falls in 1 of rate
// buckets) through one small tinyLFU per candidate tuning, each holding 1/rate
// of the policy's keys, and after every epoch returns the tuning whose
// simulation has hit most, by a decaying score. Sampling keeps each simulation
// near shadowEntries keys whatever the budget, so the cost per request falls as
// the cache grows; a small cache is simulated in full. Simulations count keys,
// not weight, so byte budgets are tuned as well as entry counts.
type tuner struct {
	tunings  []tuning
	shadows  []*tinyLFU[uint64]
	hits     []int     // per shadow, this epoch
	score    []float64 // per shadow, decayed hits of past epochs
	entries  int       // the policy's keys when full, as estimated
	capacity int64     // each shadow's budget in keys: the policy's keys / rate
	rate     uint64    // a power of two: 1 key in rate is sampled
	seen     int       // sampled requests this epoch
	best     int       // index of the tuning in force
}

const (
	shadowEntries = 4096 // keys per shadow when sampling: about 1.5 MB for all shadows
	maxWindowStep = 0.1  // most of the budget the window moves per epoch
	minEpoch      = 1024 // sampled requests per epoch, at least
	scoreDecay    = 0.5  // weight of the past epochs' score
)

// candidateTunings are the tunings the tuner simulates; the first is in force
// until the first epoch ends.
var candidateTunings = []tuning{
	{0, false}, {0.01, false}, {0.05, false}, {0.15, false}, {0.30, false}, {0.50, false}, {0.80, false}, {1, false},
	{0.01, true}, {0.05, true}, {0.15, true}, {0.30, true}, {0.50, true}, {0.80, true},
}

// newTuner returns a tuner for a policy that holds about entries keys when full.
// The simulations count entries, not weight: each holds entries/rate keys.
func newTuner(entries int) *tuner {
	t := &tuner{tunings: candidateTunings, entries: entries, capacity: int64(max(entries, 1)), rate: 1}
	for t.capacity >= 2*shadowEntries {
		t.rate *= 2
		t.capacity /= 2
	}
	for _, tu := range t.tunings {
		t.shadows = append(t.shadows, newTinyLFU[uint64](t.capacity, tu))
	}
	t.hits = make([]int, len(t.shadows))
	t.score = make([]float64, len(t.shadows))
	return t
}

// sampled reports whether requests for hash h are simulated.
func (t *tuner) sampled(h uint64) bool {
	return rehash(h^0x6a09e667f3bcc908)&(t.rate-1) == 0
}

// observe replays one request of the policy; at the end of an epoch it returns
// the best tuning and true.
func (t *tuner) observe(h uint64) (tuning, bool) {
	if !t.sampled(h) {
		return tuning{}, false
	}
	for i, s := range t.shadows {
		if _, ok := s.nodes[h]; ok {
			t.hits[i]++
			s.Access(h)
			continue
		}
		s.Add(h, 1)
		for s.Weight() > t.capacity {
			v, _ := s.Victim()
			s.Remove(v)
		}
	}
	t.seen++
	if t.seen < max(minEpoch, 2*t.shadows[0].Len()) {
		return tuning{}, false
	}
	return t.endEpoch()
}

// endEpoch scores the epoch and picks the best tuning.
func (t *tuner) endEpoch() (tuning, bool) {
	best := t.best
	for i := range t.shadows {
		t.score[i] = scoreDecay*t.score[i] + float64(t.hits[i])
		t.hits[i] = 0
	}
	for i := range t.shadows {
		if t.score[i] > t.score[best] {
			best = i
		}
	}
	t.seen = 0
	t.best = best
	return t.tunings[best], true
}

// tiesAt reports whether admitting ties scores better at window share w, by
// the miniatures at the simulated windows on either side of w, each weighted
// by its nearness to w. The policy asks when its window, moving at most
// maxWindowStep per epoch, stops short of the best tuning's: that tuning's
// admission rule may be the wrong one at the window the policy actually has
// (on P3 the best early on is plain LRU, and no ties at 10-20% does worse than
// ties there).
func (t *tuner) tiesAt(w float64) bool {
	lo, hi := 0.0, 1.0
	for _, tu := range t.tunings {
		if tu.window <= w && tu.window > lo {
			lo = tu.window
		}
		if tu.window >= w && tu.window < hi {
			hi = tu.window
		}
	}
	var with, without float64
	for i, tu := range t.tunings {
		if tu.window != lo && tu.window != hi {
			continue
		}
		sc := t.score[i]
		if hi > lo && tu.window == lo {
			sc *= (hi - w) / (hi - lo)
		} else if hi > lo {
			sc *= (w - lo) / (hi - lo)
		}
		switch {
		case tu.window >= 1: // all window: ties do not matter
			with += sc
			without += sc
		case tu.ties:
			with += sc
		default:
			without += sc
		}
	}
	return with > without
}
