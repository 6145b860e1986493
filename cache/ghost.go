package cache

// ghost remembers the hashes of recently evicted keys, up to a limit, forgetting
// the oldest first. It holds no keys or values, only hashes. It is not safe for
// concurrent use.
type ghost struct {
	set   map[uint64]uint64 // hash -> sequence number of its newest entry in queue
	queue []ghostEntry      // oldest first, from head
	head  int
	seq   uint64
}

type ghostEntry struct{ hash, seq uint64 }

func (g *ghost) init() { g.set = make(map[uint64]uint64) }

// add remembers h, forgetting the oldest hashes beyond limit.
func (g *ghost) add(h uint64, limit int) {
	g.seq++
	g.set[h] = g.seq
	g.queue = append(g.queue, ghostEntry{h, g.seq})
	for len(g.set) > limit && g.head < len(g.queue) {
		e := g.queue[g.head]
		if g.live(e) { // not re-added since
			delete(g.set, e.hash)
		}
		g.head++
	}
	if len(g.queue)-g.head > 2*len(g.set)+64 {
		g.compact()
	} else if g.head > 64 && g.head > len(g.queue)/2 {
		g.queue = append(g.queue[:0], g.queue[g.head:]...)
		g.head = 0
	}
}

// live reports whether e is the newest entry of a remembered hash.
func (g *ghost) live(e ghostEntry) bool {
	seq, ok := g.set[e.hash]
	return ok && seq == e.seq
}

// compact drops the queue's entries of hashes taken or re-added since, which
// stay in it otherwise while the set is under its limit (keys that come back
// are taken): it keeps at most one entry per remembered hash. It runs once
// the stale entries outnumber the live ones (and 64), so it costs O(1) per
// add, amortised.
func (g *ghost) compact() {
	kept := g.queue[:0]
	for _, e := range g.queue[g.head:] {
		if g.live(e) {
			kept = append(kept, e)
		}
	}
	g.queue, g.head = kept, 0
}

// take reports whether h is remembered, and forgets it.
func (g *ghost) take(h uint64) bool {
	if _, ok := g.set[h]; !ok {
		return false
	}
	delete(g.set, h)
	return true
}
