package cache

import "slices"

// Queues of the tinyLFU policy, kept in node.queue.
const (
	inWindow    uint8 = iota + 1 // admission window: every newcomer starts here
	inStaging                    // left the window, waiting for its admission duel
	inProbation                  // main space, not yet reused there
	inProtected                  // main space, reused
)

// tuning is one setting of a tinyLFU's two knobs.
type tuning struct {
	window float64 // share of the budget given to the window, 0 to 1
	ties   bool    // whether a candidate that ties its victim is admitted
}

// tinyLFU is window TinyLFU: newcomers enter an LRU window; a key pushed out of
// the window duels the main space's next victim and enters only if its estimated
// recent frequency is higher (or, with ties set, not lower); the main space is a
// segmented LRU. With a tuner attached, its tuning follows the tuner's
// simulations. It is a linked policy (NewAdaptive's keyed one wraps it); it is
// not safe for concurrent use. The zero value is not usable; call newTinyLFU.
type tinyLFU[K comparable] struct {
	count     int // resident nodes
	window    list[K]
	staging   list[K] // pushed out of the window, not yet dueled
	probation list[K]
	protected list[K]
	capacity  int64
	// maxWindow and maxProtected are the current targets.
	maxWindow    int64
	maxProtected int64
	ties         bool
	sketch       sketch
	tuned        bool   // whether a tuner tunes it (not in the tuner's own simulations)
	tuner        *tuner // made at the first request
	full         bool   // whether the policy has been full since the tuner started
	rng          uint64
	touched      uint64 // the sum of AccessAll's reads ahead (touch), kept so that they are made
}

func newTinyLFU[K comparable](capacity int64, t tuning) *tinyLFU[K] {
	p := &tinyLFU[K]{capacity: capacity, rng: 1}
	for _, l := range []*list[K]{&p.window, &p.staging, &p.probation, &p.protected} {
		l.init()
	}
	p.sketch.resize(int(min(capacity, 1<<12)))
	p.tune(t)
	return p
}

func (p *tinyLFU[K]) queue(q uint8) *list[K] {
	switch q {
	case inWindow:
		return &p.window
	case inStaging:
		return &p.staging
	case inProbation:
		return &p.probation
	}
	return &p.protected
}

func (p *tinyLFU[K]) add(n *node[K]) { p.addHash(n, hashKey(n.key)) }

// addHash is add of a node whose key hashes to h (hashKey).
func (p *tinyLFU[K]) addHash(n *node[K], h uint64) {
	p.sketch.increment(h)
	n.queue = inWindow
	p.count++
	if p.count > len(p.sketch.table) {
		p.sketch.grow()
	}
	p.window.pushBack(n)
	p.settle()
	p.observe(h, false)
}

// touch reads what an access of n, whose key hashes to h, will change (its
// neighbours in its queue, its counters in the sketch), and returns a sum of
// what it read, for the caller to keep so that the reads are made: reading
// ahead for several nodes at once overlaps their cache misses.
func (p *tinyLFU[K]) touch(n *node[K], h uint64) uint64 {
	sum := p.sketch.table[(h&p.sketch.blockMask)*wordsPerBlk]
	if n.prev != nil {
		sum += uint64(n.prev.queue)
	}
	if n.next != nil {
		sum += uint64(n.next.queue)
	}
	return sum
}

func (p *tinyLFU[K]) access(n *node[K]) { p.accessHash(n, hashKey(n.key)) }

// accessHash is access of a node whose key hashes to h (hashKey).
func (p *tinyLFU[K]) accessHash(n *node[K], h uint64) {
	p.sketch.increment(h)
	switch n.queue {
	case inWindow:
		p.window.moveToBack(n)
	case inProtected:
		p.protected.moveToBack(n)
	default: // probation or staging: reuse in the main space earns protection
		p.move(n, inProtected)
		p.demoteProtected()
	}
	p.observe(h, true)
}

// observe shows one request to the tuner. At the end of each of its epochs the
// policy takes the tuner's best tuning, moving the window at most maxWindowStep
// of the budget at a time, but at least one unit, so that a small budget's
// window moves too: moving keys between the spaces costs hits, and a
// noisy epoch should not undo what many epochs built. When the step stops the
// window short of the best tuning's, the admission rule is the one that scores
// best at the window the policy will have, not the best tuning's. hit tells
// whether the request found its key (the tuner compares the policy's own hits
// with its simulations'). When the tuner finds the main space stale, the
// protected keys go to the front of probation, where newcomers duel them.
func (p *tinyLFU[K]) observe(h uint64, hit bool) {
	if !p.tuned {
		return
	}
	if p.tuner == nil || (!p.full && p.total() >= p.capacity) {
		p.startTuner()
	}
	t, ok, shifted, stale := p.tuner.observe(h, hit)
	if shifted {
		p.forget()
	} else if stale {
		p.unprotect()
	}
	if ok {
		// In whole units: a tenth of a budget under 10, added as a share
		// and truncated to units, would never move the window.
		step := max(int64(maxWindowStep*float64(p.capacity)), 1)
		target := p.windowUnits(t.window)
		if w := min(max(target, p.maxWindow-step), p.maxWindow+step); w != target {
			p.tuneUnits(w, p.tuner.tiesAt(float64(w)/float64(p.capacity)))
		} else {
			p.tune(t)
		}
	}
}

// startTuner starts the tuner, sized by an estimate of how many keys the
// policy holds when full: the budget over the mean weight so far. When the
// policy is first full the count is known; the tuner restarts if the estimate
// was off by more than half.
func (p *tinyLFU[K]) startTuner() {
	mean := max(float64(p.total())/float64(max(p.count, 1)), 1e-9)
	entries := int(min(float64(p.capacity)/mean, 1<<40))
	if p.full = p.total() >= p.capacity; p.full {
		entries = p.count
		if p.tuner != nil && entries < 2*p.tuner.entries && p.tuner.entries < 2*entries {
			return
		}
	}
	p.tuner = newTuner(entries)
}

// forget drops what the policy learned of the keys' popularity, when the
// workload has moved to other keys: the sketch's counts, and the protection of
// the keys reused in the main space, which all go to the front of probation,
// the next to leave, in their order. Newcomers then win their duels against
// the old keys until they are reused themselves, as in LRU, instead of losing
// them until aging wears the old counts down (several times the cache's size
// in requests).
func (p *tinyLFU[K]) forget() {
	p.sketch.clear()
	p.unprotect()
}

// unprotect moves the protected keys to the front of probation, in their
// order: the next victims, each still dueling newcomers by its frequency.
func (p *tinyLFU[K]) unprotect() {
	p.probation.takeFront(&p.protected, inProbation)
}

// clone returns a copy of an untuned p (a tuner's simulation), its queues in
// the same order and its sketch with the same counts, and calls fn for each
// new node.
func (p *tinyLFU[K]) clone(fn func(*node[K])) *tinyLFU[K] {
	c := &tinyLFU[K]{count: p.count, capacity: p.capacity,
		maxWindow: p.maxWindow, maxProtected: p.maxProtected, ties: p.ties, sketch: p.sketch, rng: p.rng}
	c.sketch.table = slices.Clone(p.sketch.table)
	for q := inWindow; q <= inProtected; q++ {
		from, to := p.queue(q), c.queue(q)
		to.init()
		for n := from.front(); n != nil && n != &from.root; n = n.next {
			m := &node[K]{key: n.key, weight: n.weight, queue: q}
			fn(m)
			to.pushBack(m)
		}
	}
	return c
}

// move takes n from its queue to the back of queue q.
func (p *tinyLFU[K]) move(n *node[K], q uint8) {
	p.queue(n.queue).remove(n)
	n.queue = q
	p.queue(q).pushBack(n)
}

func (p *tinyLFU[K]) update(n *node[K], weight int64) {
	p.queue(n.queue).resize(n, weight)
	p.settle()
}

func (p *tinyLFU[K]) replace(old, n *node[K]) {
	w := n.weight
	n.weight = old.weight
	p.queue(old.queue).swap(old, n)
	p.update(n, w)
}

func (p *tinyLFU[K]) remove(n *node[K]) {
	p.count--
	p.queue(n.queue).remove(n)
}

func (p *tinyLFU[K]) size() int { return p.count }

func (p *tinyLFU[K]) total() int64 {
	return p.window.weight + p.staging.weight + p.probation.weight + p.protected.weight
}

// settle pushes the window's overflow out to staging and, while the budget is not
// exceeded, admits staged keys without a duel.
func (p *tinyLFU[K]) settle() {
	for p.window.weight > p.maxWindow && p.window.len > 0 {
		p.move(p.window.front(), inStaging)
	}
	if p.total() <= p.capacity {
		for p.staging.len > 0 {
			p.move(p.staging.front(), inProbation)
		}
	}
}

// demoteProtected moves the protected queue's overflow back to probation.
func (p *tinyLFU[K]) demoteProtected() {
	for p.protected.weight > p.maxProtected && p.protected.len > 0 {
		p.move(p.protected.front(), inProbation)
	}
}

// mainVictim returns the main space's next victim, or nil.
func (p *tinyLFU[K]) mainVictim() *node[K] {
	if n := p.probation.front(); n != nil {
		return n
	}
	return p.protected.front()
}

// victim returns the next victim: a key pushed out of the window duels the
// main space's victim; the loser is returned and the winner stays.
func (p *tinyLFU[K]) victim() *node[K] {
	p.settle()
	if cand := p.staging.front(); cand != nil {
		victim := p.mainVictim()
		if victim == nil || cand.weight > p.capacity || !p.admit(hashKey(cand.key), hashKey(victim.key)) {
			return cand
		}
		p.move(cand, inProbation)
		return victim
	}
	for _, n := range [...]*node[K]{p.probation.front(), p.protected.front(), p.window.front()} {
		if n != nil {
			return n
		}
	}
	return nil
}

func (p *tinyLFU[K]) admitKey(candidate, victim K) bool {
	h := hashKey(candidate)
	p.sketch.increment(h)
	return p.admit(h, hashKey(victim))
}

// admit is TinyLFU's duel: the more frequent key wins (ties win too when the
// tuning says so). A candidate that loses while warm (a frequency of 6 or more)
// still wins 1 time in 128, so an attacker cannot pin victims with collisions.
func (p *tinyLFU[K]) admit(cand, victim uint64) bool {
	cf, vf := p.sketch.frequency(cand), p.sketch.frequency(victim)
	if cf > vf || (p.ties && cf == vf) {
		return true
	}
	if cf < 6 {
		return false
	}
	p.rng = rehash(p.rng)
	return p.rng&127 == 0
}

// windowUnits returns the window's target at share w of the budget, in
// whole units: at least 1, at most the budget.
func (p *tinyLFU[K]) windowUnits(w float64) int64 {
	return min(max(int64(w*float64(p.capacity)), 1), p.capacity)
}

// tune applies a tuning: the window's target becomes its share of the budget
// (at least 1 unit) and the rest goes to the main space, 80% of it protected.
// Keys move at once so that both spaces are at their targets: the main space's
// oldest keys into a grown window, a shrunk window's oldest keys to probation.
// Staged keys are out of the window already and keep waiting for their duel:
// the tuner applies a tuning after every epoch, usually the one in force, and
// moving the staged newcomer to probation then let it in without a duel,
// evicting a resident that had won its own (on loop 500 the policy hit about
// 4% less than its simulation of the same tuning, which never retunes).
func (p *tinyLFU[K]) tune(t tuning) { p.tuneUnits(p.windowUnits(t.window), t.ties) }

// tuneUnits is tune with the window's target in units (1 to the budget): a
// share of a small budget converted back to units may come out one short.
func (p *tinyLFU[K]) tuneUnits(window int64, ties bool) {
	p.ties = ties
	p.maxWindow = window
	p.maxProtected = (p.capacity - p.maxWindow) * 8 / 10
	p.demoteProtected()
	for p.window.weight > p.maxWindow {
		p.move(p.window.front(), inProbation)
	}
	for p.window.weight < p.maxWindow {
		n := p.mainVictim()
		if n == nil || p.window.weight+n.weight > p.maxWindow {
			break
		}
		p.move(n, inWindow)
	}
}
