package cache

// lfuPolicy is the least-frequently-used policy: the victim is the resident key with the
// fewest accesses since it became resident, the least recently used among equals.
// Every operation is O(1) (frequency buckets in a list). Counts are forgotten when
// a key leaves. It is not safe for concurrent use. The zero value is not usable;
// call NewLFU.
type lfuPolicy[K comparable] struct {
	nodes   map[K]*lfuNode[K]
	buckets freqBucket[K] // sentinel of the circular list of buckets, by count
	weight  int64
}

// lfuNode is a node with its frequency bucket.
type lfuNode[K comparable] struct {
	node[K]
	freq *freqBucket[K]
}

// freqBucket holds the keys accessed count times, oldest access first.
type freqBucket[K comparable] struct {
	count      uint64
	keys       list[K]
	prev, next *freqBucket[K]
}

// NewLFU returns an empty least-frequently-used policy: the victim is the
// resident key with the fewest accesses since it became resident, the least
// recently used among equals. It is not safe for concurrent use.
func NewLFU[K comparable]() Policy[K] {
	p := &lfuPolicy[K]{nodes: make(map[K]*lfuNode[K])}
	p.buckets.prev, p.buckets.next = &p.buckets, &p.buckets
	return p
}

// Add implements Policy.
func (p *lfuPolicy[K]) Add(key K, weight int64) {
	if _, ok := p.nodes[key]; ok {
		p.Update(key, weight)
		p.Access(key)
		return
	}
	n := &lfuNode[K]{node: node[K]{key: key, weight: weight}}
	p.nodes[key] = n
	p.weight += weight
	p.place(n, &p.buckets, 1)
}

// rekey replaces the key of key's resident, and the map's copy of it, with
// key, an equal value over other memory.
func (p *lfuPolicy[K]) rekey(key K) {
	if n, ok := p.nodes[key]; ok {
		n.key = key
		p.nodes[key] = n
	}
}

// place puts n in the bucket of count, creating it after the bucket at if needed.
func (p *lfuPolicy[K]) place(n *lfuNode[K], at *freqBucket[K], count uint64) {
	b := at.next
	if b == &p.buckets || b.count != count {
		b = &freqBucket[K]{count: count, prev: at, next: at.next}
		b.keys.init()
		at.next.prev = b
		at.next = b
	}
	n.freq = b
	b.keys.pushBack(&n.node)
}

// unplace takes n out of its bucket, dropping the bucket if it empties, and returns
// the bucket before it.
func (p *lfuPolicy[K]) unplace(n *lfuNode[K]) *freqBucket[K] {
	b := n.freq
	b.keys.remove(&n.node)
	n.freq = nil
	if b.keys.len > 0 {
		return b
	}
	b.prev.next, b.next.prev = b.next, b.prev
	return b.prev
}

// Access implements Policy.
func (p *lfuPolicy[K]) Access(key K) {
	n, ok := p.nodes[key]
	if !ok {
		return
	}
	count := n.freq.count + 1
	p.place(n, p.unplace(n), count)
}

// Update implements Policy.
func (p *lfuPolicy[K]) Update(key K, weight int64) {
	if n, ok := p.nodes[key]; ok {
		p.weight += weight - n.weight
		n.freq.keys.resize(&n.node, weight)
	}
}

// Remove implements Policy.
func (p *lfuPolicy[K]) Remove(key K) {
	if n, ok := p.nodes[key]; ok {
		delete(p.nodes, key)
		p.weight -= n.weight
		p.unplace(n)
	}
}

// Victim implements Policy.
func (p *lfuPolicy[K]) Victim() (K, bool) {
	if b := p.buckets.next; b != &p.buckets {
		return b.keys.front().key, true
	}
	var zero K
	return zero, false
}

// Admit implements Policy: there is no admission filter.
func (p *lfuPolicy[K]) Admit(candidate, victim K) bool { return true }

// Len implements Policy.
func (p *lfuPolicy[K]) Len() int { return len(p.nodes) }

// Weight implements Policy.
func (p *lfuPolicy[K]) Weight() int64 { return p.weight }
