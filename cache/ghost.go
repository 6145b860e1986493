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
		if g.set[e.hash] == e.seq { // not re-added since
			delete(g.set, e.hash)
		}
		g.head++
	}
	if g.head > 64 && g.head > len(g.queue)/2 {
		g.queue = append(g.queue[:0], g.queue[g.head:]...)
		g.head = 0
	}
}

// take reports whether h is remembered, and forgets it.
func (g *ghost) take(h uint64) bool {
	if _, ok := g.set[h]; !ok {
		return false
	}
	delete(g.set, h)
	return true
}
