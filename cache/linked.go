package cache

// linked is the handle-based form of a policy: the owner allocates the nodes
// and hands them over, so that the policy needs no map from keys to nodes. The
// Cache embeds a node in each of its entries and finds the victim's entry from
// its node; a keyed Policy is a linked one plus a map (see keyed), which is
// what the tiers and users hold.
//
// Like a Policy, a linked policy is pure and unsynchronized: one owner
// serializes every call. A node belongs to the policy from add until remove
// (or until a replace puts another in its place): the owner must not link it
// elsewhere, nor change its key or weight meanwhile.
type linked[K comparable] interface {
	// add records a new resident of n.key and n.weight; n must be in no queue,
	// and no other node of the policy may have its key.
	add(n *node[K])
	// access records a hit on resident n.
	access(n *node[K])
	// update changes the weight of resident n.
	update(n *node[K], weight int64)
	// remove records that resident n left.
	remove(n *node[K])
	// replace puts n, of the same key as resident old and in no queue, in
	// old's place, with n's weight: the key keeps its position and history.
	// old leaves the policy.
	replace(old, n *node[K])
	// victim returns the resident that should leave next, or nil; like
	// Policy.Victim it does not remove it.
	victim() *node[K]
	// admitKey is Policy.Admit.
	admitKey(candidate, victim K) bool
	// size returns the number of residents, total the sum of their weights.
	size() int
	total() int64
}

// hashing is a linked policy that hashes keys (hashKey) on every add and
// access: an owner that keeps each key's hash passes it instead, and the
// policy reads no key's bytes for them.
type hashing[K comparable] interface {
	addHash(n *node[K], h uint64)
	accessHash(n *node[K], h uint64)
}

var _ hashing[string] = (*tinyLFU[string])(nil)

// keyed is a linked policy keyed by K: the Policy that NewPolicy returns. It
// owns its nodes, one per resident key, found through its map. It is not safe
// for concurrent use. The zero value is not usable; see newKeyed.
type keyed[K comparable] struct {
	nodes map[K]*node[K]
	core  linked[K]
}

func newKeyed[K comparable](core linked[K]) *keyed[K] {
	return &keyed[K]{nodes: make(map[K]*node[K]), core: core}
}

// Add implements Policy.
func (p *keyed[K]) Add(key K, weight int64) {
	if n, ok := p.nodes[key]; ok {
		p.core.update(n, weight)
		p.core.access(n)
		return
	}
	n := &node[K]{key: key, weight: weight}
	p.nodes[key] = n
	p.core.add(n)
}

// Access implements Policy.
func (p *keyed[K]) Access(key K) {
	if n, ok := p.nodes[key]; ok {
		p.core.access(n)
	}
}

// Update implements Policy.
func (p *keyed[K]) Update(key K, weight int64) {
	if n, ok := p.nodes[key]; ok {
		p.core.update(n, weight)
	}
}

// Remove implements Policy.
func (p *keyed[K]) Remove(key K) {
	if n, ok := p.nodes[key]; ok {
		delete(p.nodes, key)
		p.core.remove(n)
	}
}

// Victim implements Policy.
func (p *keyed[K]) Victim() (K, bool) {
	if n := p.core.victim(); n != nil {
		return n.key, true
	}
	var zero K
	return zero, false
}

// Admit implements Policy.
func (p *keyed[K]) Admit(candidate, victim K) bool { return p.core.admitKey(candidate, victim) }

// Len implements Policy.
func (p *keyed[K]) Len() int { return len(p.nodes) }

// Weight implements Policy.
func (p *keyed[K]) Weight() int64 { return p.core.total() }

// byKey is the linked form of a Policy that has no other (LFU): it keeps a map
// from keys to the owner's nodes, which it never links, and tells the keyed
// policy of every call. It costs the memory that linked policies save.
type byKey[K comparable] struct {
	nodes map[K]*node[K]
	p     Policy[K]
}

func (b *byKey[K]) add(n *node[K]) {
	b.nodes[n.key] = n
	b.p.Add(n.key, n.weight)
}

func (b *byKey[K]) access(n *node[K]) { b.p.Access(n.key) }

// rekey stores key, equal to n's, in place of the one the map holds (an
// assignment to a present string key replaces the key), and in the keyed
// policy's records, so that neither keeps the old key's memory.
func (b *byKey[K]) rekey(n *node[K], key K) {
	b.nodes[key] = n
	if r, ok := b.p.(interface{ rekey(K) }); ok {
		r.rekey(key)
	}
}
func (b *byKey[K]) update(n *node[K], weight int64) { n.weight = weight; b.p.Update(n.key, weight) }
func (b *byKey[K]) admitKey(c, v K) bool            { return b.p.Admit(c, v) }
func (b *byKey[K]) size() int                       { return b.p.Len() }
func (b *byKey[K]) total() int64                    { return b.p.Weight() }

func (b *byKey[K]) remove(n *node[K]) {
	delete(b.nodes, n.key)
	b.p.Remove(n.key)
}

func (b *byKey[K]) replace(old, n *node[K]) {
	b.nodes[n.key] = n
	b.p.Update(n.key, n.weight)
}

func (b *byKey[K]) victim() *node[K] {
	if k, ok := b.p.Victim(); ok {
		return b.nodes[k]
	}
	return nil
}

// newLinked returns a new, empty linked policy of the given kind, as
// NewPolicy's for a Cache.
func newLinked[K comparable](kind Kind, capacity int64) (linked[K], error) {
	if capacity < 1 {
		return nil, errorf(ErrCapacity, "%d", capacity)
	}
	switch kind {
	case Adaptive:
		p := newTinyLFU[K](capacity, candidateTunings[0])
		p.tuned = true
		return p, nil
	case LRU:
		return newRecency[K](true), nil
	case LFU:
		return &byKey[K]{nodes: make(map[K]*node[K]), p: NewLFU[K]()}, nil
	case FIFO:
		return newRecency[K](false), nil
	case S3FIFO:
		return newS3FIFO[K](capacity), nil
	}
	return nil, errorf(ErrPolicy, "Kind(%d)", int(kind))
}
