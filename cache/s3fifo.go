package cache

// Queues of the S3-FIFO policy, kept in node.queue.
const (
	inSmall uint8 = iota + 1 // newcomers: a small FIFO that filters one-hit wonders
	inMain                   // keys used again while in the small queue, or remembered
)

// s3fifo is S3-FIFO (Yang et al., SOSP 2023): three FIFO queues. Newcomers enter
// a small queue holding 10% of the budget; a key leaving it moves to the main
// queue if it was used at least twice there, else leaves and is remembered in a
// ghost queue of hashes; a newcomer found in the ghost queue enters the main
// queue at once. The main queue gives each key up to 3 second chances, one per
// use (CLOCK with a 2-bit counter). Accesses only bump a counter: no reordering.
// It is not safe for concurrent use.
type s3fifo[K comparable] struct {
	small    list[K]
	main     list[K]
	ghost    ghost
	smallCap int64
	capacity int64
	// last is the hash (hashKey) of the key victim named last, and
	// lastSmall whether it left the small queue: its removal then adds it
	// to the ghost queue. The hash, not the key: a key kept here would keep
	// what it points into (a tier's whole entry) alive after it left.
	last      uint64
	lastSmall bool
}

// NewS3FIFO returns an empty S3-FIFO policy for a budget of capacity weight
// units: a small FIFO queue (10% of the budget) filters keys used once, a main
// FIFO queue with up to 3 second chances per key keeps the others, and a ghost
// queue of recently evicted hashes lets a returning key skip the filter. It is
// scan-resistant and cheap (a hit changes no queue); on the block traces of the
// reference table it is the best policy at some sizes (P3 at 100,000 entries).
// It is not safe for concurrent use.
func NewS3FIFO[K comparable](capacity int64) Policy[K] { return newKeyed[K](newS3FIFO[K](capacity)) }

func newS3FIFO[K comparable](capacity int64) *s3fifo[K] {
	p := &s3fifo[K]{capacity: capacity, smallCap: max(capacity/10, 1)}
	p.small.init()
	p.main.init()
	p.ghost.init()
	return p
}

func (p *s3fifo[K]) queue(q uint8) *list[K] {
	if q == inSmall {
		return &p.small
	}
	return &p.main
}

func (p *s3fifo[K]) add(n *node[K]) {
	n.queue, n.uses = inSmall, 0
	if p.ghost.take(hashKey(n.key)) {
		n.queue = inMain
	}
	p.queue(n.queue).pushBack(n)
}

func (p *s3fifo[K]) access(n *node[K]) {
	if n.uses < 3 {
		n.uses++
	}
}

func (p *s3fifo[K]) update(n *node[K], weight int64) { p.queue(n.queue).resize(n, weight) }

func (p *s3fifo[K]) replace(old, n *node[K]) {
	p.queue(old.queue).swap(old, n)
}

func (p *s3fifo[K]) remove(n *node[K]) {
	p.queue(n.queue).remove(n)
	if p.lastSmall && n.queue == inSmall {
		if h := hashKey(n.key); h == p.last {
			p.ghost.add(h, max(p.size(), 1)) // about as many keys as the cache holds
		}
	}
}

// victim returns the next victim. Keys leaving the small queue after two uses
// move to the main queue, and main-queue keys with uses left go round again,
// until a key with none is found.
func (p *s3fifo[K]) victim() *node[K] {
	for {
		if s := p.small.front(); s != nil && (p.small.weight >= p.smallCap || p.main.len == 0) {
			if s.uses > 1 {
				p.small.remove(s)
				s.queue = inMain
				p.main.pushBack(s)
				continue
			}
			p.last, p.lastSmall = hashKey(s.key), true
			return s
		}
		m := p.main.front()
		if m == nil {
			return nil
		}
		if m.uses > 0 {
			m.uses--
			p.main.moveToBack(m)
			continue
		}
		p.last, p.lastSmall = 0, false
		return m
	}
}

// admitKey: S3-FIFO filters with its small queue, not at the door.
func (p *s3fifo[K]) admitKey(candidate, victim K) bool { return true }
func (p *s3fifo[K]) size() int                         { return p.small.len + p.main.len }
func (p *s3fifo[K]) total() int64                      { return p.small.weight + p.main.weight }
