package disk

import (
	"cmp"
	"math"
	"slices"
	"sync"
)

// registry holds the store's segments by id. A segment in the registry has
// the store's reference; remove retires it. Safe for concurrent use.
type registry struct {
	mu sync.Mutex // protects m and every segment's retired flag
	m  map[uint64]*segment
}

func (r *registry) add(g *segment) {
	r.mu.Lock()
	r.m[g.id] = g
	r.mu.Unlock()
}

// remove takes g out of the registry and marks it retired. The caller then
// drops the store's reference.
func (r *registry) remove(g *segment) {
	r.mu.Lock()
	delete(r.m, g.id)
	g.retired.Store(true)
	r.mu.Unlock()
}

// tryAcquire takes a reference on g unless it is retired.
func (r *registry) tryAcquire(g *segment) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if g.retired.Load() {
		return false
	}
	g.acquire()
	return true
}

// pick returns the segments for which fn is true, by id, each with a
// reference the caller must release.
func (r *registry) pick(fn func(*segment) bool) []*segment {
	r.mu.Lock()
	var gs []*segment
	for _, g := range r.m {
		if fn(g) {
			g.acquire()
			gs = append(gs, g)
		}
	}
	r.mu.Unlock()
	slices.SortFunc(gs, func(a, b *segment) int { return cmp.Compare(a.id, b.id) })
	return gs
}

// all returns every segment, as pick does.
func (r *registry) all() []*segment {
	return r.pick(func(*segment) bool { return true })
}

// minDeadSeqExcept returns the lowest sequence number of a dead put in any
// segment but those in skip: a tombstone with a lower number can no longer
// shadow a put outside them.
func (r *registry) minDeadSeqExcept(skip []*segment) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	low := uint64(math.MaxUint64)
	for _, g := range r.m {
		if !slices.Contains(skip, g) {
			low = min(low, g.minDeadSeq.Load())
		}
	}
	return low
}

// releaseAll releases every segment of gs.
func releaseAll(gs []*segment) {
	for _, g := range gs {
		g.release()
	}
}
