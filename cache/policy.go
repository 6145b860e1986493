package cache

// Policy decides which resident key leaves next. It holds keys and their weights
// only, never values: the owner keeps the values and tells the policy what happens
// to them.
//
// A Policy is pure and unsynchronized: it is not safe for concurrent use, and one
// owner (the Cache, a tier) serializes every call, typically under its own mutex.
// Weights are in whatever unit the owner budgets: bytes for the tiers, 1 per entry
// for a count-bounded cache or the simulator. A weight must not be negative.
//
// The owner's loop is the same for every policy:
//
//	p.Add(key, w)                  // a new resident
//	for used > budget {            // the owner tracks used, the sum of weights
//		victim, _ := p.Victim()
//		used -= weightOf(victim)   // the owner removes it ...
//		p.Remove(victim)           // ... and says so
//	}
//
// The newcomer itself may be the victim: that is how admission policies reject it.
//
// Every Policy of this package keeps a map from keys to its own nodes; the
// Cache uses the same policies without it, its entries holding the nodes.
type Policy[K comparable] interface {
	// Add records a new resident key of the given weight. A request for a key that
	// was not resident (a miss) is recorded this way. Adding a key that is already
	// resident is a caller bug; policies treat it as Update followed by Access.
	Add(key K, weight int64)
	// Access records a hit on a resident key. Keys that are not resident are
	// ignored, so a late report after a removal does no harm.
	Access(key K)
	// Update records that a resident key's weight changed; unknown keys are ignored.
	Update(key K, weight int64)
	// Remove records that a key left: deleted, expired, evicted, moved to another
	// tier. Unknown keys are ignored.
	Remove(key K)
	// Victim returns the resident key that should leave next, and false when
	// nothing is resident. It does not remove the key: the owner removes it and
	// calls Remove before asking again. Victim may reorganize the policy's queues
	// (an admission duel), so two calls without a Remove in between may differ.
	Victim() (K, bool)
	// Admit reports whether candidate, a key that is not resident, is worth more
	// than victim, a resident key: an owner that has no room asks this before
	// making room. Admit records one request of candidate (it is a request that
	// missed), so a key asked about often is admitted in the end. Policies without
	// an admission filter always return true.
	Admit(candidate, victim K) bool
	// Len returns the number of resident keys.
	Len() int
	// Weight returns the sum of the weights of the resident keys.
	Weight() int64
}

// Kind names a Policy for Options and for NewPolicy.
type Kind int

const (
	// Adaptive is window TinyLFU with a self-tuning window and admission: the
	// default, and the best general policy of this package. See NewAdaptive.
	Adaptive Kind = iota
	// LRU evicts the least recently used key.
	LRU
	// LFU evicts the least frequently used key, the least recently used among equals.
	LFU
	// FIFO evicts the oldest key, whatever its use.
	FIFO
	// S3FIFO is S3-FIFO: a small FIFO filter queue, a main FIFO queue with
	// second chances, and a ghost queue. See NewS3FIFO.
	S3FIFO
)

var kindNames = [...]string{Adaptive: "adaptive", LRU: "lru", LFU: "lfu", FIFO: "fifo", S3FIFO: "s3fifo"}

// String returns the lower-case name of the policy, as ParseKind accepts it.
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// ParseKind returns the Kind named s (adaptive, lru, lfu, fifo or s3fifo), or an
// error wrapping ErrPolicy.
func ParseKind(s string) (Kind, error) {
	for k, name := range kindNames {
		if s == name {
			return Kind(k), nil
		}
	}
	return 0, errorf(ErrPolicy, "%q (want adaptive, lru, lfu, fifo or s3fifo)", s)
}

// NewPolicy returns a new, empty policy of the given kind for a budget of capacity
// weight units (Adaptive and S3FIFO size their queues from it; the others do
// not need it). It returns an error wrapping ErrPolicy for an unknown kind and
// ErrCapacity for a capacity below 1.
func NewPolicy[K comparable](kind Kind, capacity int64) (Policy[K], error) {
	if capacity < 1 {
		return nil, errorf(ErrCapacity, "%d", capacity)
	}
	switch kind {
	case Adaptive:
		return NewAdaptive[K](capacity), nil
	case LRU:
		return NewLRU[K](), nil
	case LFU:
		return NewLFU[K](), nil
	case FIFO:
		return NewFIFO[K](), nil
	case S3FIFO:
		return NewS3FIFO[K](capacity), nil
	}
	return nil, errorf(ErrPolicy, "Kind(%d)", int(kind))
}
