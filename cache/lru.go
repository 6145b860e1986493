package cache

// NewLRU returns an empty least-recently-used policy: the victim is the key
// whose last access is the oldest. It is not safe for concurrent use.
func NewLRU[K comparable]() Policy[K] { return newKeyed[K](newRecency[K](true)) }

// NewFIFO returns an empty first-in, first-out policy: the victim is the key
// that became resident first; accesses do not change the order. It is not safe
// for concurrent use.
func NewFIFO[K comparable]() Policy[K] { return newKeyed[K](newRecency[K](false)) }

// recency is the linked LRU policy (reorder set: the victim is the node whose
// last access is the oldest) or FIFO policy (the victim is the oldest node,
// whatever its use). It is not safe for concurrent use. The zero value is not
// usable; call newRecency.
type recency[K comparable] struct {
	queue   list[K]
	reorder bool
}

func newRecency[K comparable](reorder bool) *recency[K] {
	p := &recency[K]{reorder: reorder}
	p.queue.init()
	return p
}

func (p *recency[K]) add(n *node[K]) { p.queue.pushBack(n) }

func (p *recency[K]) access(n *node[K]) {
	if p.reorder {
		p.queue.moveToBack(n)
	}
}

func (p *recency[K]) update(n *node[K], weight int64) { p.queue.resize(n, weight) }
func (p *recency[K]) remove(n *node[K])               { p.queue.remove(n) }
func (p *recency[K]) replace(old, n *node[K])         { p.queue.swap(old, n) }
func (p *recency[K]) victim() *node[K]                { return p.queue.front() }

// admitKey: there is no admission filter.
func (p *recency[K]) admitKey(candidate, victim K) bool { return true }
func (p *recency[K]) size() int                         { return p.queue.len }
func (p *recency[K]) total() int64                      { return p.queue.weight }
