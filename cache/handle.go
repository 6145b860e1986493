package cache

import "unsafe"

// Handle is one key's place in a HandlePolicy: the owner of the entries
// embeds a Handle in each of them (or allocates one per entry) and hands it to
// the policy, so that the policy needs no map from keys to records of its own
// and a hit is recorded without looking the key up again. The tiers use it
// this way: an entry of the hot tier holds its handle beside its value.
//
// The zero Handle is in no policy. A Handle belongs to the policy from Add
// until Remove: the owner must not copy it, move it, or add it to a second
// policy meanwhile. Handles are not safe for concurrent use; the policy's
// owner serializes every call that touches one.
type Handle[K comparable] struct {
	n     node[K]          // first: Victim finds the handle from its node
	hash  uint64           // hashKey(n.key), for a policy that hashes keys (its reads then never touch the key's bytes)
	owner *HandlePolicy[K] // the policy it is resident in, between Add and Remove; nil in none
}

// Key returns the key the handle was added with.
func (h *Handle[K]) Key() K { return h.n.key }

// Weight returns the handle's weight in its policy.
func (h *Handle[K]) Weight() int64 { return h.n.weight }

// Resident reports whether the handle is in a policy (added and not yet
// removed).
func (h *Handle[K]) Resident() bool { return h.owner != nil }

// HandlePolicy is a Policy whose residents are Handles that the owner
// allocates: the form to use when the owner keeps its own index of entries,
// as a Cache or a tier does, so that no key is indexed twice. Its decisions are
// those of the Policy of the same Kind fed the same calls (the handle's key
// standing for the key): the same victims, the same admissions.
//
// Like a Policy it is pure and unsynchronized: not safe for concurrent use; one
// owner serializes every call, typically under its own mutex. Calls on a
// handle that is not resident in the policy (in none, or in another) are
// ignored, as a Policy ignores unknown keys, so a late report after a
// removal does no harm and a handle of another policy changes neither. The zero value
// is not usable; make one with NewHandlePolicy.
type HandlePolicy[K comparable] struct {
	core   linked[K]
	hashed hashing[K]  // core, when it hashes keys: handles keep their key's hash for it
	lfu    *tinyLFU[K] // core, when it is Adaptive's (AccessAll reads ahead for it)
}

// NewHandlePolicy returns an empty handle policy of the given kind for a budget
// of capacity weight units. It returns an error wrapping ErrPolicy for an
// unknown kind and ErrCapacity for a capacity below 1.
func NewHandlePolicy[K comparable](kind Kind, capacity int64) (*HandlePolicy[K], error) {
	core, err := newLinked[K](kind, capacity)
	if err != nil {
		return nil, err
	}
	hashed, _ := core.(hashing[K])
	lfu, _ := core.(*tinyLFU[K])
	return &HandlePolicy[K]{core: core, hashed: hashed, lfu: lfu}, nil
}

// Add records h as a new resident of the given key and weight (a miss that is
// now stored). Adding a handle that is resident is treated as Update followed
// by Access, keeping its key; adding a handle resident in another policy is
// ignored. The owner must not have another resident handle of the same key
// in the policy.
func (p *HandlePolicy[K]) Add(h *Handle[K], key K, weight int64) {
	switch h.owner {
	case p:
		p.Update(h, weight)
		p.Access(h)
		return
	case nil:
	default:
		return
	}
	h.n.key, h.n.weight, h.n.queue, h.n.uses = key, weight, 0, 0
	h.owner = p
	if p.hashed != nil {
		h.hash = hashKey(key)
		p.hashed.addHash(&h.n, h.hash)
		return
	}
	p.core.add(&h.n)
}

// Access records a hit on h.
func (p *HandlePolicy[K]) Access(h *Handle[K]) {
	switch {
	case h.owner != p:
	case p.hashed != nil:
		p.hashed.accessHash(&h.n, h.hash)
	default:
		p.core.access(&h.n)
	}
}

// Update records that h's weight changed.
func (p *HandlePolicy[K]) Update(h *Handle[K], weight int64) {
	if h.owner == p {
		p.core.update(&h.n, weight)
	}
}

// Rekey makes the resident h hold key, which must equal (==) the key it
// holds: for keys over memory the owner replaces (a string over a buffer
// the owner reallocates), so that the policy does not keep the old memory.
// A key that differs is ignored.
func (p *HandlePolicy[K]) Rekey(h *Handle[K], key K) {
	if h.owner == p && h.n.key == key {
		h.n.key = key
		if r, ok := p.core.(rekeying[K]); ok {
			r.rekey(&h.n, key) // a core that keeps the key in maps of its own (LFU's)
		}
	}
}

// rekeying is a linked core that keeps a resident's key besides its node,
// and replaces it with an equal one on Rekey.
type rekeying[K comparable] interface {
	rekey(n *node[K], key K)
}

// Remove records that h's entry left: deleted, evicted, moved elsewhere. The
// handle keeps no reference to its key afterwards (Key returns the zero
// key), and may be added again, to this policy or another, for any key.
func (p *HandlePolicy[K]) Remove(h *Handle[K]) {
	if h.owner == p {
		p.core.remove(&h.n)
		h.owner = nil
		var zero K
		h.n.key = zero
	}
}

// Victim returns the resident handle that should leave next, or nil and false
// when nothing is resident. Like Policy.Victim it does not remove it.
func (p *HandlePolicy[K]) Victim() (*Handle[K], bool) {
	n := p.core.victim()
	if n == nil {
		return nil, false
	}
	return handleOf(n), true
}

// Admit is Policy.Admit: whether candidate, a key that is not resident, is
// worth more than victim, a resident one. It records one request of candidate.
func (p *HandlePolicy[K]) Admit(candidate, victim K) bool { return p.core.admitKey(candidate, victim) }

// Len returns the number of resident handles.
func (p *HandlePolicy[K]) Len() int { return p.core.size() }

// Weight returns the sum of the weights of the resident handles.
func (p *HandlePolicy[K]) Weight() int64 { return p.core.total() }

// handleOf returns the handle whose node n is: every node a HandlePolicy
// holds is the first field of a Handle.
func handleOf[K comparable](n *node[K]) *Handle[K] {
	return (*Handle[K])(unsafe.Pointer(n))
}

// AccessAll is Access of each handle of hs, in order. It first reads, for
// all of them, the memory their accesses change (each handle, its
// neighbours in their queue and its counters in the frequency sketch), so
// that these cache misses overlap instead of coming one after another: an
// owner that buffers hits hands them over in batches this way.
func (p *HandlePolicy[K]) AccessAll(hs []*Handle[K]) {
	if p.lfu != nil {
		var sum uint64
		for _, h := range hs {
			if h.owner == p {
				sum += p.lfu.touch(&h.n, h.hash)
			}
		}
		p.lfu.touched = sum
	}
	for _, h := range hs {
		p.Access(h)
	}
}
