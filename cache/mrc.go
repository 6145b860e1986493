package cache

import (
	"math/bits"
	"slices"
)

// analyzer estimates the LRU miss-ratio curve of the requests it sees, so that
// Analyze can say what another budget would do. It follows the SHARDS method:
// only keys whose hash falls in 1 of rate buckets are tracked, their reuse
// distances (distinct sampled keys requested since their previous request,
// counted with a Fenwick tree over request times) are histogrammed, and a
// distance d stands for about d × rate keys of the real stream. When more than
// maxTracked keys are tracked the rate doubles and the history restarts, so the
// analyzer stays within a few hundred kilobytes whatever the cache's size.
// It is not safe for concurrent use: the cache calls it under its lock.
type analyzer struct {
	rate     uint64         // a power of two
	last     map[uint64]int // tracked key hash -> time of its last request
	tree     fenwick        // 1 at the last request time of each tracked key
	now      int            // sampled requests so far (the next time)
	hist     []uint64       // hist[d]: sampled requests at reuse distance d
	cold     uint64         // sampled requests of keys seen for the first time
	requests uint64         // sampled requests in hist and cold
}

const maxTracked = 8192

func (a *analyzer) init() {
	a.rate = 1
	a.reset()
}

func (a *analyzer) reset() {
	a.last = make(map[uint64]int)
	a.tree = newFenwick(4 * maxTracked)
	a.now = 0
	a.hist = make([]uint64, maxTracked+1)
	a.cold, a.requests = 0, 0
}

// record notes a request of the key of hash h.
func (a *analyzer) record(h uint64) {
	s := rehash(h ^ 0xbb67ae8584caa73b)
	if s&(a.rate-1) != 0 {
		return
	}
	if a.now == len(a.tree) {
		a.compact()
	}
	a.requests++
	if t, ok := a.last[h]; ok {
		d := a.tree.sum(a.now) - a.tree.sum(t+1)
		a.hist[min(d, len(a.hist)-1)]++
		a.tree.add(t, -1)
	} else {
		a.cold++
	}
	a.last[h] = a.now
	a.tree.add(a.now, 1)
	a.now++
	if len(a.last) > maxTracked {
		a.rate *= 2
		a.reset()
	}
}

// compact renumbers the tracked keys' last request times 0, 1, 2, ... in order.
func (a *analyzer) compact() {
	type kt struct {
		h uint64
		t int
	}
	keys := make([]kt, 0, len(a.last))
	for h, t := range a.last {
		keys = append(keys, kt{h, t})
	}
	slices.SortFunc(keys, func(x, y kt) int { return x.t - y.t })
	a.tree = newFenwick(len(a.tree))
	for i, k := range keys {
		a.last[k.h] = i
		a.tree.add(i, 1)
	}
	a.now = len(keys)
}

// hitRatio estimates the hit ratio of an LRU cache of entries keys over the
// requests seen, and reports whether there were enough of them to say.
func (a *analyzer) hitRatio(entries float64) (float64, bool) {
	if a.requests < 1000 {
		return 0, false
	}
	limit := entries / float64(a.rate)
	var hits uint64
	for d, n := range a.hist {
		if float64(d) >= limit {
			break
		}
		hits += n
	}
	return float64(hits) / float64(a.requests), true
}

// ceiling returns the share of the sampled requests that were not first
// sightings: the hit ratio of an unbounded cache.
func (a *analyzer) ceiling() float64 {
	if a.requests == 0 {
		return 0
	}
	return 1 - float64(a.cold)/float64(a.requests)
}

// fenwick is a binary indexed tree of counts over positions 0..len-1.
type fenwick []int

func newFenwick(n int) fenwick { return make(fenwick, 1<<bits.Len(uint(n-1))) }

func (f fenwick) add(i, delta int) {
	for i++; i <= len(f); i += i & -i {
		f[i-1] += delta
	}
}

// sum returns the total at positions below i.
func (f fenwick) sum(i int) int {
	s := 0
	for ; i > 0; i -= i & -i {
		s += f[i-1]
	}
	return s
}
