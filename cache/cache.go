package cache

import (
	"hash/maphash"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tiermem/tiermem/internal/ttl"
)

// Options configure a Cache. The zero value (or a nil *Options) is a cache of
// 10,000 entries under the Adaptive policy, without TTL.
type Options[K comparable, V any] struct {
	// MaxWeight is the budget: the sum of the weights of the entries never
	// exceeds it. 0 means DefaultMaxWeight.
	MaxWeight int64
	// Weigher returns the weight of an entry, in the unit of MaxWeight (bytes,
	// typically). nil weighs every entry 1, so MaxWeight counts entries. It is
	// called once per Set, without locks held, and must not be negative.
	Weigher func(key K, value V) int64
	// Policy chooses what to evict; the zero value is Adaptive.
	Policy Kind
	// TTL is the time to live of entries stored by Set; 0 means no expiry.
	// SetWithTTL overrides it per entry.
	TTL time.Duration
	// OnEvict, if not nil, is called for every entry that leaves the cache or is
	// turned away, with the reason. It is called after the cache's locks are
	// released, from the goroutine whose call caused the removal (or the
	// background sweeper), so it may call the cache.
	OnEvict func(key K, value V, reason Reason)
	// SweepInterval is how often the cache's maintenance goroutine removes
	// expired entries; 0 means one second. The same goroutine hands buffered
	// hits to the policy, so Gets never do that work. Negative means no
	// goroutine: expired entries are removed when a Get finds them or evicted,
	// and Gets drain the hit buffer themselves when it fills.
	SweepInterval time.Duration
	// Clock returns the current time, for TTLs; nil means time.Now. Tests use
	// it to move time by hand.
	Clock func() time.Time
}

// DefaultMaxWeight is the budget of a Cache whose Options leave MaxWeight 0.
const DefaultMaxWeight = 10_000

// Cache is a concurrent, generic cache with a weight budget, per-entry TTL and
// a choice of eviction policy. All methods are safe for concurrent use.
//
// Get takes no lock and does not allocate: it finds the entry in a hash table
// read without locks and records the hit in a lossy striped buffer that the
// maintenance goroutine hands to the policy, under the cache's lock, in
// batches. Under a load heavy enough to fill the buffer faster than it drains,
// hits are dropped rather than waited for: the policy then learns from a
// sample of the hits, as in otter and Caffeine. Set, Delete and
// expiry take the lock, so that the budget holds at every moment: an entry is
// published only after room has been made for it.
//
// Make a Cache with New and Close it to stop its background sweeper.
type Cache[K comparable, V any] struct {
	shards     []shard[K, V]
	shardShift uint
	seed       uint64       // mixes integer keys into the table hash
	hseed      maphash.Seed // hashes the other keys

	mu        sync.Mutex // protects the fields below it and orders before shard.mu
	policy    linked[K]  // its nodes are the entries' (see entry)
	weight    int64      // sum of the entries' weights
	expiries  ttl.Heap[K]
	removals  [Rejected + 1]uint64 // by Reason
	admitted  uint64
	analyzer  analyzer
	published atomic.Int64 // weight, for readers without the lock

	maxWeight int64
	weigher   func(K, V) int64
	ttl       time.Duration
	onEvict   func(K, V, Reason)
	clock     func() time.Time
	epoch     atomic.Pointer[time.Time] // the cache clock's 0 (see now); set once

	reads    readBuffer[K, V]
	misses   counter
	replaced counter // by Set's fast path; the slow path counts in removals

	drainReq     chan struct{} // wakes the maintenance goroutine; nil without one
	drainPending atomic.Bool   // a drain was requested and has not started
	words        int           // valueWords of V, or -1: values are not rewritten in place
	closed       atomic.Bool
	maintainer   atomic.Uint64 // the maintenance goroutine's id (goid), once it runs
	stop         chan struct{} // closed by Close
	done         chan struct{} // closed when the maintenance goroutine returns
}

// New returns an empty cache configured by opts (nil means the zero Options).
// It returns an error wrapping ErrCapacity for a negative MaxWeight and
// ErrPolicy for an unknown Policy. Unless opts.SweepInterval is negative it
// starts a maintenance goroutine that runs until Close.
func New[K comparable, V any](opts *Options[K, V]) (*Cache[K, V], error) {
	var o Options[K, V]
	if opts != nil {
		o = *opts
	}
	if o.MaxWeight == 0 {
		o.MaxWeight = DefaultMaxWeight
	}
	policy, err := newLinked[K](o.Policy, o.MaxWeight)
	if err != nil {
		return nil, err
	}
	c := &Cache[K, V]{policy: policy, maxWeight: o.MaxWeight, weigher: o.Weigher, ttl: o.TTL,
		onEvict: o.OnEvict, clock: o.Clock, seed: rand.Uint64(), hseed: maphash.MakeSeed(), stop: make(chan struct{}), done: make(chan struct{})}
	if c.clock == nil {
		c.clock = time.Now
	}
	if n, ok := valueWords[V](); ok {
		c.words = n
	} else {
		c.words = -1
	}
	c.initShards()
	stripes := 1 << bits.Len(uint(16*runtime.GOMAXPROCS(0)-1)) // few goroutines share one
	c.reads.init(stripes)
	c.misses.init(stripes)
	c.replaced.init(stripes)
	c.analyzer.init()
	if o.SweepInterval == 0 {
		o.SweepInterval = time.Second
	}
	if o.SweepInterval > 0 {
		c.drainReq = make(chan struct{}, 1)
		go c.maintain(o.SweepInterval)
	} else {
		close(c.done)
	}
	return c, nil
}

// presizeEntries is the most entries New sizes a Cache's table for, in all
// shards (about 0.5 MB of bucket heads); past it the shards double as they
// fill.
const presizeEntries = 1 << 16

func (c *Cache[K, V]) initShards() {
	n := 1 << bits.Len(uint(16*runtime.GOMAXPROCS(0)-1))
	c.shards = make([]shard[K, V], n)
	c.shardShift = uint(64 - bits.TrailingZeros(uint(n)))
	per := 8
	if c.weigher == nil { // MaxWeight counts entries: size the table for them
		// Keys spread over the shards unevenly, by about the square root of
		// the mean: a sixteenth more than the mean, and 8, leaves room for
		// 1.8 of them at 10,000 entries, so that the table rarely grows
		// (which would double it), at a load factor of 0.94. Only up to
		// presizeEntries: a large MaxWeight says "no practical limit"
		// more often than it says how many entries will come, and an
		// empty cache should not hold a table for them.
		perShard := int(max(min(c.maxWeight, presizeEntries)/int64(n), 1))
		per = max(per, perShard+perShard/16+8)
	}
	for i := range c.shards {
		c.shards[i].buckets.Store(newBucketArray[K, V](per))
	}
}

// hash returns the table hash of key (not kept in entries, to keep them
// small), seeded per cache so that an adversary who does not know the seed
// cannot aim keys at one bucket. Integers are mixed with seed by a
// bijection; every other key is hashed whole by hash/maphash under hseed,
// since a seed applied after an unseeded hash keeps that hash's collisions.
func (c *Cache[K, V]) hash(key K) uint64 {
	switch k := any(key).(type) {
	case uint64:
		return rehash(k ^ c.seed)
	case int:
		return rehash(uint64(k) ^ c.seed)
	case int64:
		return rehash(uint64(k) ^ c.seed)
	case uint32:
		return rehash(uint64(k) ^ c.seed)
	case int32:
		return rehash(uint64(k) ^ c.seed)
	case uint:
		return rehash(uint64(k) ^ c.seed)
	case string:
		return maphash.String(c.hseed, k)
	}
	return maphash.Comparable(c.hseed, key)
}

func (c *Cache[K, V]) shard(h uint64) *shard[K, V] { return &c.shards[h>>c.shardShift] }

// now returns the cache clock in nanoseconds: above 0 unless the Clock was
// set back before the clock's epoch, which is the Clock's time when now was
// first called (by the first TTL), not at New, so that a hand clock still at
// the zero time when New ran does not start it more than 292 years back. A
// clock 292 years or more past the epoch saturates Sub: it reads MaxInt64,
// after every expiry (an entry stored then expires at once), rather than
// wrapping to MinInt64, before every expiry.
func (c *Cache[K, V]) now() int64 {
	t := c.clock()
	epoch := c.epoch.Load()
	if epoch == nil {
		epoch = c.startClock(t)
	}
	d := t.Sub(*epoch)
	if d >= math.MaxInt64-1 {
		return math.MaxInt64
	}
	return int64(d) + 1
}

// startClock sets the cache clock's epoch to t, unless another call set it
// first, and returns the epoch.
func (c *Cache[K, V]) startClock(t time.Time) *time.Time {
	c.epoch.CompareAndSwap(nil, &t)
	return c.epoch.Load()
}

// Get returns the value of key and true, or the zero value and false when the
// key is absent or expired.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	h := c.hash(key)
	e := c.shard(h).find(h, key)
	r := stripeHint()
	if e == nil || (e.expire != 0 && e.expire <= c.now()) {
		c.misses.add(r)
		if e != nil {
			c.expire(e)
		}
		var zero V
		return zero, false
	}
	if c.reads.add(e, r) {
		c.scheduleDrain()
	}
	return e.load(c.words), true
}

// Set stores value under key with the cache's default TTL. It returns an error
// wrapping ErrTooLarge if the entry weighs more than the whole budget (any
// entry of the key then leaves, Evicted, and OnEvict sees the value
// Rejected), ErrWeight for a negative weight and
// ErrClosed after Close. The policy may turn a new entry away at once (an
// admission filter at work): that is not an error; OnEvict sees Rejected and
// Stats counts it.
func (c *Cache[K, V]) Set(key K, value V) error { return c.SetWithTTL(key, value, c.ttl) }

// SetWithTTL is Set with a time to live for this entry; ttl ≤ 0 means none.
func (c *Cache[K, V]) SetWithTTL(key K, value V, ttl time.Duration) error {
	if c.closed.Load() {
		return ErrClosed
	}
	w := int64(1)
	if c.weigher != nil {
		w = c.weigher(key, value)
	}
	if w < 0 {
		return errorf(ErrWeight, "%d", w)
	}
	if w > c.maxWeight { // the newcomer is Rejected; the key's entry leaves with it, Evicted
		c.removeKey(key, Evicted, &removal[K, V]{key, value, Rejected})
		return errorf(ErrTooLarge, "weight %d, budget %d", w, c.maxWeight)
	}
	h := c.hash(key)
	var expire int64
	if ttl > 0 {
		now := c.now()
		room := int64(math.MaxInt64) // a clock set back before New reads negative: no overflow
		if now > 0 {
			room -= now
		}
		expire = now + min(int64(ttl), room) // a TTL past the clock's end is forever
		if expire == 0 {
			expire = 1 // 0 means no TTL: a nanosecond late, never never
		}
	}
	if expire == 0 && c.replaceSame(key, value, h, w) {
		return nil
	}
	c.notify(c.insert(&entry[K, V]{node: node[K]{key: key, weight: w}, value: value, expire: expire}, h))
	return nil
}

// replaceSame is Set's fast path: it rewrites the value of key's live entry in
// place if the entry has the same weight, neither has a TTL and the value
// holds no pointers (see value.go), taking only the shard's lock, and reports
// whether it did; the policy sees a hit. Values with pointers need a new entry,
// which takes the policy's node's place under the cache's lock: insert.
func (c *Cache[K, V]) replaceSame(key K, value V, h uint64, w int64) bool {
	if c.words < 0 {
		return false
	}
	s := c.shard(h)
	s.mu.Lock()
	e := s.find(h, key)
	if e == nil || e.weight != w || e.expire != 0 {
		s.mu.Unlock()
		return false
	}
	var old V
	if c.onEvict != nil {
		old = e.load(c.words)
	}
	e.store(value, c.words)
	s.mu.Unlock()
	r := stripeHint()
	c.replaced.add(r)
	if c.reads.record(e, r) {
		c.scheduleDrain()
	}
	c.notify([]removal[K, V]{{key, old, Replaced}})
	return true
}

// removal is an entry that left, and why, kept for OnEvict after the locks.
type removal[K comparable, V any] struct {
	key    K
	value  V
	reason Reason
}

// gone returns the removal of e for reason.
func (c *Cache[K, V]) gone(e *entry[K, V], reason Reason) removal[K, V] {
	return removal[K, V]{e.key, e.load(c.words), reason}
}

// insert stores e under the cache's lock: the policy learns of it first,
// victims leave until the budget holds, and e is published only if it was not
// itself the victim. It returns the removals to notify.
func (c *Cache[K, V]) insert(e *entry[K, V], h uint64) []removal[K, V] {
	s := c.shard(h)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drainLocked()
	var out []removal[K, V]
	old := s.find(h, e.key) // stable: the table changes under c.mu only
	// total is the weight while victims leave: in uint64, since two
	// weights up to a budget near MaxInt64 overflow an int64.
	total := uint64(c.weight) + uint64(e.weight)
	if old != nil {
		c.policy.replace(&old.node, &e.node)
		c.policy.access(&e.node)
		total -= uint64(old.weight)
	} else {
		c.policy.add(&e.node)
		c.analyzer.record(h)
	}
	rejected := false
	for total > uint64(c.maxWeight) {
		n := c.policy.victim()
		if n == nil {
			break
		}
		c.policy.remove(n)
		v := entryOf[K, V](n)
		if v == e {
			rejected = true
			total -= uint64(e.weight)
			out = append(out, c.gone(e, Rejected))
			if old != nil { // the key's current entry leaves with the newcomer
				s.mu.Lock()
				s.deleteLocked(h, e.key)
				s.mu.Unlock()
				out = append(out, c.gone(old, Evicted))
			}
			continue
		}
		c.unpublishLocked(v)
		total -= uint64(v.weight)
		out = append(out, c.gone(v, Evicted))
	}
	if !rejected {
		s.mu.Lock()
		prev := s.putLocked(e, h, c.hash) // old
		s.mu.Unlock()
		if prev != nil {
			out = append(out, c.gone(prev, Replaced))
		} else {
			c.admitted++
		}
		if e.expire != 0 {
			c.expiries.Push(ttl.Item[K]{At: e.expire, Key: e.key})
			// Sweeps trim the heap too, but only every SweepInterval (if
			// at all): a hot key rewritten meanwhile would grow it without
			// bound. The trim is amortised O(1) per push.
			c.trimExpiriesLocked()
		}
	}
	for _, r := range out {
		c.removals[r.reason]++
	}
	c.weight = int64(total) // at most maxWeight now
	c.published.Store(c.weight)
	return out
}

// unpublishLocked takes e's key out of the table if e is still its entry.
// c.mu must be held.
func (c *Cache[K, V]) unpublishLocked(e *entry[K, V]) bool {
	h := c.hash(e.key)
	s := c.shard(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.find(h, e.key) != e {
		return false
	}
	s.deleteLocked(h, e.key)
	return true
}

// removeLocked removes key from the table and the policy and returns its entry,
// or nil if it was not in the table. c.mu must be held.
func (c *Cache[K, V]) removeLocked(h uint64, key K) *entry[K, V] {
	s := c.shard(h)
	s.mu.Lock()
	e := s.deleteLocked(h, key)
	s.mu.Unlock()
	if e != nil {
		c.policy.remove(&e.node)
		c.weight -= e.weight
	}
	return e
}

// Delete removes key and reports whether it was present (expired or not).
func (c *Cache[K, V]) Delete(key K) bool { return c.removeKey(key, Deleted, nil) }

// removeKey removes key's entry, which leaves for reason, and reports
// whether there was one; rejected, when set, is a newcomer turned away
// with it, notified after it as Rejected.
func (c *Cache[K, V]) removeKey(key K, reason Reason, rejected *removal[K, V]) bool {
	h := c.hash(key)
	c.mu.Lock()
	e := c.removeLocked(h, key)
	var out []removal[K, V]
	if e != nil {
		c.removals[reason]++
		c.published.Store(c.weight)
		out = append(out, c.gone(e, reason))
	}
	if rejected != nil {
		c.removals[Rejected]++
		out = append(out, *rejected)
	}
	if e != nil {
		c.drainLocked() // the buffered hits may hold e: let its value go now
	}
	c.mu.Unlock()
	c.notify(out)
	return e != nil
}

// expire removes e, found expired by a Get, unless it was replaced meanwhile.
func (c *Cache[K, V]) expire(e *entry[K, V]) {
	c.mu.Lock()
	gone := c.unpublishLocked(e)
	if gone {
		c.policy.remove(&e.node)
		c.weight -= e.weight
		c.removals[Expired]++
		c.published.Store(c.weight)
		c.drainLocked() // the buffered hits may hold e: let its value go now
	}
	c.mu.Unlock()
	if gone {
		c.notify([]removal[K, V]{c.gone(e, Expired)})
	}
}

// drainLocked passes the buffered hits to the policy. A hit on an entry that
// has left since counts for the key's current entry, if there is one.
// c.mu must be held.
func (c *Cache[K, V]) drainLocked() {
	c.reads.drain(func(e *entry[K, V]) {
		h := c.hash(e.key)
		if cur := c.shard(h).find(h, e.key); cur != nil {
			c.policy.access(&cur.node)
		}
		c.analyzer.record(h)
	})
}

// scheduleDrain has the buffered hits drained: by the maintenance goroutine if
// there is one (the caller goes on at once, and hits that find the buffer full
// meanwhile are dropped), else here if the lock is free.
func (c *Cache[K, V]) scheduleDrain() {
	if c.drainReq == nil {
		if c.mu.TryLock() {
			c.drainLocked()
			c.mu.Unlock()
		}
		return
	}
	if !c.drainPending.Load() && c.drainPending.CompareAndSwap(false, true) {
		select {
		case c.drainReq <- struct{}{}:
		default:
		}
	}
}

// notify calls OnEvict for each removal; no lock may be held.
func (c *Cache[K, V]) notify(out []removal[K, V]) {
	if c.onEvict == nil {
		return
	}
	for _, r := range out {
		c.onEvict(r.key, r.value, r.reason)
	}
}

// Len returns the number of entries, expired ones not yet removed included.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.policy.size()
}

// Weight returns the sum of the entries' weights; it never exceeds the budget.
func (c *Cache[K, V]) Weight() int64 { return c.published.Load() }

// Stats returns a snapshot of the counters.
func (c *Cache[K, V]) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{
		Hits: c.reads.hits(), Misses: c.misses.load(),
		Evicted: c.removals[Evicted], Expired: c.removals[Expired], Deleted: c.removals[Deleted],
		Replaced: c.removals[Replaced] + c.replaced.load(), Rejected: c.removals[Rejected], Admitted: c.admitted,
		Len: c.policy.size(), Weight: c.weight, MaxWeight: c.maxWeight,
	}
}

// Close stops the maintenance goroutine and waits for it. Afterwards Get and
// Delete still work and Set returns ErrClosed. Close is idempotent. Called
// from an OnEvict that the maintenance goroutine runs (an expiry), it does
// not wait for that goroutine, which ends once the callback returns.
func (c *Cache[K, V]) Close() {
	if c.closed.CompareAndSwap(false, true) {
		close(c.stop)
	}
	if c.maintainer.Load() == goid() {
		return // an OnEvict of the maintenance goroutine: it ends once the callback returns
	}
	<-c.done
	c.mu.Lock()
	c.drainLocked() // nothing drains after Close: the buffered hits would keep their entries
	c.mu.Unlock()
}
