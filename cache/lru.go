package cache

// lruPolicy is the least-recently-used policy: the victim is the key whose last access
// is the oldest. It is not safe for concurrent use. The zero value is not usable;
// call NewLRU.
type lruPolicy[K comparable] struct{ recency[K] }

// NewLRU returns an empty least-recently-used policy: the victim is the key
// whose last access is the oldest. It is not safe for concurrent use.
func NewLRU[K comparable]() Policy[K] {
	p := &lruPolicy[K]{}
	p.init(true)
	return p
}

// fifoPolicy is the first-in, first-out policy: the victim is the key that became
// resident first; accesses do not change the order. It is not safe for concurrent
// use. The zero value is not usable; call NewFIFO.
type fifoPolicy[K comparable] struct{ recency[K] }

// NewFIFO returns an empty first-in, first-out policy: the victim is the key
// that became resident first; accesses do not change the order. It is not safe
// for concurrent use.
func NewFIFO[K comparable]() Policy[K] {
	p := &fifoPolicy[K]{}
	p.init(false)
	return p
}

// recency is one queue ordered by insertion, and by access too when reorder is set.
type recency[K comparable] struct {
	nodes   map[K]*node[K]
	queue   list[K]
	reorder bool
}

func (p *recency[K]) init(reorder bool) {
	p.nodes = make(map[K]*node[K])
	p.queue.init()
	p.reorder = reorder
}

// Add implements Policy.
func (p *recency[K]) Add(key K, weight int64) {
	if n, ok := p.nodes[key]; ok {
		p.queue.resize(n, weight)
		p.Access(key)
		return
	}
	n := &node[K]{key: key, weight: weight}
	p.nodes[key] = n
	p.queue.pushBack(n)
}

// Access implements Policy.
func (p *recency[K]) Access(key K) {
	if n, ok := p.nodes[key]; ok && p.reorder {
		p.queue.moveToBack(n)
	}
}

// Update implements Policy.
func (p *recency[K]) Update(key K, weight int64) {
	if n, ok := p.nodes[key]; ok {
		p.queue.resize(n, weight)
	}
}

// Remove implements Policy.
func (p *recency[K]) Remove(key K) {
	if n, ok := p.nodes[key]; ok {
		delete(p.nodes, key)
		p.queue.remove(n)
	}
}

// Victim implements Policy.
func (p *recency[K]) Victim() (K, bool) {
	if n := p.queue.front(); n != nil {
		return n.key, true
	}
	var zero K
	return zero, false
}

// Admit implements Policy: there is no admission filter.
func (p *recency[K]) Admit(candidate, victim K) bool { return true }

// Len implements Policy.
func (p *recency[K]) Len() int { return len(p.nodes) }

// Weight implements Policy.
func (p *recency[K]) Weight() int64 { return p.queue.weight }
