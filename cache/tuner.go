package cache

import "slices"

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
	shadows  []*shadow
	hits     []int     // per shadow, this epoch
	score    []float64 // per shadow, decayed hits of past epochs
	entries  int       // the policy's keys when full, as estimated
	capacity int64     // each shadow's budget in keys: the policy's keys / rate
	rate     uint64    // a power of two: 1 key in rate is sampled
	seen     int       // sampled requests this epoch
	best     int       // index of the tuning in force
	held     int       // epochs in a row whose best tuning was not plain LRU
	lru      int       // index of the tuning that is plain LRU (window 1)
	// checkBest and checkLRU are the hits of the best tuning's simulation and
	// of plain LRU's since the last look for a shift.
	checkBest, checkLRU int
	lastBest, lastLRU   int     // checkBest and checkLRU at the last look
	trial               *trial  // running, or nil
	credit              float64 // decayed share of hits that forgetting gained in trials
	late                bool    // a trial that did not forget found it should have
	// own and ownScore are the policy's own hits on sampled requests, this
	// epoch and decayed as the simulations' scores are; checkOwn counts them
	// since the last look for a shift.
	own, checkOwn int
	ownScore      float64
	staleWait     int // looks before the main space may be found stale again
}

const (
	shadowEntries = 4096 // keys per shadow when sampling: about 1.5 MB for all shadows
	maxWindowStep = 0.1  // most of the budget the window moves per epoch
	minEpoch      = 1024 // sampled requests per epoch, at least
	scoreDecay    = 0.5  // weight of the past epochs' score
	shiftHeld     = 2    // epochs other tunings than LRU must have led before a shift is believed
	shiftChecks   = 4    // looks for a shift per epoch
	forgetCredit  = 0.02 // forgetting must have gained this share of hits in trials
	shiftMinHits  = 64   // LRU's hits since the last look must be at least this to compare
	flipMargin    = 0.05 // a simulation with the other admission rule must beat the policy's own hits by this share
	staleShare    = 0.3  // the policy's main space is stale when it hits less than this share of its simulation
)

// candidateTunings are the tunings the tuner simulates; the first is in force
// until the first epoch ends: window TinyLFU's usual 1% window without ties,
// which on P3 100000 hits more in that epoch than no window does (39.81 →
// 40.02 over the trace) and moves no other row by more than 0.2.
var candidateTunings = []tuning{
	{0.01, false}, {0, false}, {0.05, false}, {0.15, false}, {0.30, false}, {0.50, false}, {0.80, false}, {1, false},
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
		t.shadows = append(t.shadows, newShadow(t.capacity, tu))
	}
	t.lru = slices.IndexFunc(t.tunings, func(tu tuning) bool { return tu.window >= 1 })
	t.hits = make([]int, len(t.shadows))
	t.score = make([]float64, len(t.shadows))
	return t
}

// sampled reports whether requests for hash h are simulated.
func (t *tuner) sampled(h uint64) bool {
	return rehash(h^0x6a09e667f3bcc908)&(t.rate-1) == 0
}

// observe replays one request of the policy, hit telling whether the policy
// held the key; at the end of an epoch it returns the best tuning and true. It
// also reports whether the policy should forget what it learned of the keys'
// popularity (see suspect); the simulations then have. Shifts are looked for
// shiftChecks times per epoch, so that the policy forgets soon after one, and
// when LRU takes the lead from other tunings. At the same looks it reports
// whether the policy's main space is stale (see isStale).
func (t *tuner) observe(h uint64, hit bool) (best tuning, ok, shift, stale bool) {
	if !t.sampled(h) {
		return tuning{}, false, false, false
	}
	if hit {
		t.own++
		t.checkOwn++
	}
	t.replay(h)
	if t.late {
		t.late, shift = false, true
		t.forget()
	}
	t.seen++
	epoch := t.epoch()
	if t.seen%max(epoch/shiftChecks, 1) == 0 {
		if t.shifted() {
			shift = t.suspect() || shift
		}
		stale = t.isStale()
		t.lastBest, t.lastLRU, t.checkBest, t.checkLRU, t.checkOwn = t.checkBest, t.checkLRU, 0, 0, 0
	}
	if t.seen < epoch {
		return tuning{}, false, shift, stale
	}
	held := t.held
	best, ok = t.endEpoch()
	if !shift && held >= shiftHeld && t.best == t.lru {
		shift = t.suspect()
	}
	return best, ok, shift, stale
}

// isStale reports whether the policy, since the last look, hit less than
// staleShare of what the simulation of its tuning hit. The policy's main space
// then holds keys that the simulation has replaced: after a change of
// workload (Mixed: a loop after a trace of keys seen once or twice) keys
// protected by old reuse are never dueled while probation churns, and the
// simulation, tuned so from the start or shifted earlier, does not have them.
// Only a tuner that simulates every request compares: with sampling the
// simulation models the policy only statistically (and on P3 acting on the
// check cost 1.5 points). At most once an epoch.
func (t *tuner) isStale() bool {
	if t.staleWait > 0 {
		t.staleWait--
		return false
	}
	if t.rate != 1 || t.checkBest < shiftMinHits || float64(t.checkOwn) >= staleShare*float64(t.checkBest) {
		return false
	}
	t.staleWait = shiftChecks - 1
	return true
}

// suspect acts on a suspected shift and reports whether the policy should
// forget. Forgetting is right when the popular keys have changed for good and
// wrong when the old ones come back (P3 has many such moments), so the tuner
// tries it out: the leader's simulation is copied, and one of the two forgets
// while the other keeps what it knows; after an epoch, the difference in their
// hits is credited to forgetting. Every simulation, and the policy, forget when
// the credit is above forgetCredit (or before the first trial, if other
// tunings than LRU have led for shiftHeld epochs); otherwise only the copy does,
// and if the trial then credits forgetting enough, all forget at its end.
// While a trial runs, suspicions are ignored.
func (t *tuner) suspect() bool {
	if t.trial != nil {
		return false
	}
	forget := t.credit > forgetCredit || (t.credit == 0 && t.held >= shiftHeld)
	t.trial = &trial{twin: t.shadows[t.best].clone(), of: t.best, forgot: forget, left: t.epoch()}
	if forget {
		t.forget()
	} else {
		t.trial.twin.forget()
	}
	return forget
}

// forget makes every simulation forget what it learned of the keys' popularity.
func (t *tuner) forget() {
	for _, s := range t.shadows {
		s.forget()
	}
	t.held = 0
}

// epoch returns the sampled requests of an epoch.
func (t *tuner) epoch() int { return max(minEpoch, 2*t.shadows[0].size()) }

// replay replays one sampled request in every simulation.
func (t *tuner) replay(h uint64) {
	for i, s := range t.shadows {
		if s.request(h, t.capacity) {
			t.hits[i]++
			if i == t.best {
				t.checkBest++
			}
			if i == t.lru {
				t.checkLRU++
			}
			if t.trial != nil && i == t.trial.of {
				t.trial.hits++
			}
		}
	}
	if t.trial != nil {
		t.runTrial(h)
	}
}

// shadow is one of the tuner's simulations: an untuned tinyLFU of key
// hashes, each of weight 1, with the map that finds their nodes.
type shadow struct {
	*tinyLFU[uint64]
	nodes map[uint64]*node[uint64]
}

func newShadow(capacity int64, t tuning) *shadow {
	return &shadow{newTinyLFU[uint64](capacity, t), make(map[uint64]*node[uint64])}
}

// request replays a request of hash h and reports whether it hit; a miss
// adds h and evicts down to capacity keys.
func (s *shadow) request(h uint64, capacity int64) bool {
	if n, ok := s.nodes[h]; ok {
		s.access(n)
		return true
	}
	n := &node[uint64]{key: h, weight: 1}
	s.nodes[h] = n
	s.add(n)
	for s.total() > capacity {
		v := s.victim()
		delete(s.nodes, v.key)
		s.remove(v)
	}
	return false
}

// clone returns a copy of s (see tinyLFU.clone).
func (s *shadow) clone() *shadow {
	c := &shadow{nodes: make(map[uint64]*node[uint64], len(s.nodes))}
	c.tinyLFU = s.tinyLFU.clone(func(n *node[uint64]) { c.nodes[n.key] = n })
	return c
}

// trial compares, for an epoch after a suspected shift, the leader's
// simulation with a copy of it that made the other choice (see suspect).
type trial struct {
	twin           *shadow
	of             int  // the leader's index
	forgot         bool // whether the leader forgot (and the twin did not)
	left           int  // sampled requests until the trial ends
	hits, twinHits int
}

// runTrial replays h in the trial's copy and ends the trial when its epoch
// is over, crediting forgetting with what it gained (or lost).
func (t *tuner) runTrial(h uint64) {
	tr := t.trial
	if tr.twin.request(h, t.capacity) {
		tr.twinHits++
	}
	if tr.left--; tr.left > 0 {
		return
	}
	forgot, kept := tr.hits, tr.twinHits
	if !tr.forgot {
		forgot, kept = kept, forgot
	}
	// The gain is a share of the larger count, within ±1, so that one trial
	// of few hits cannot outweigh several that went against forgetting.
	gain := float64(forgot-kept) / float64(max(forgot, kept, 1))
	t.credit = scoreDecay*t.credit + gain
	if !tr.forgot && t.credit > forgetCredit {
		t.late = true
	}
	t.trial = nil
}

// shifted reports whether the popular keys seem to have changed since the last
// look: plain LRU's hits fell below 70% of the look before while the leader hit
// less than 90% of what LRU hit (in a scan all fall, the leader no less than
// LRU), or other tunings than LRU have led for shiftHeld epochs and the leader
// hit less than four fifths of what LRU hit. Then the frequencies the leader
// keeps keys by may be those of keys no longer requested, which window TinyLFU
// takes several times its size in requests to wear down (the sketch halves its
// counts every 10 × its size).
func (t *tuner) shifted() bool {
	if t.lru < 0 {
		return false
	}
	if t.lastLRU >= shiftMinHits && 10*t.checkLRU < 7*t.lastLRU && 10*t.checkBest < 9*t.checkLRU {
		return true
	}
	return t.held >= shiftHeld && 5*t.checkBest < 4*t.checkLRU
}

// endEpoch scores the epoch and picks the best tuning.
func (t *tuner) endEpoch() (tuning, bool) {
	best := t.best
	for i := range t.shadows {
		t.score[i] = scoreDecay*t.score[i] + float64(t.hits[i])
		t.hits[i] = 0
	}
	t.ownScore = scoreDecay*t.ownScore + float64(t.own)
	t.own = 0
	for i := range t.shadows {
		if t.score[i] > t.score[best] {
			best = i
		}
	}
	if t.tunings[best].ties != t.tunings[t.best].ties && t.score[best] <= (1+flipMargin)*t.ownScore {
		// A change of admission rule changes which keys the main space
		// keeps, at a cost in hits that the simulation, which always had its
		// rule, does not see: it must beat what the policy itself hits, by
		// flipMargin. On loop the two rules' simulations trade the lead by a
		// few hits, and each flip cost the policy about a tenth of its hits
		// for several epochs.
		best = t.best
	}
	t.seen = 0
	if best != t.lru {
		t.held++
	} else {
		t.held = 0
	}
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
