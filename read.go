package tiermem

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/tiermem/tiermem/internal/freq"
	"github.com/tiermem/tiermem/internal/header"
	"github.com/tiermem/tiermem/internal/keylock"

	"github.com/tiermem/tiermem/tier"
)

// Retrieve returns a copy of key's value, which the caller owns. Errors:
// ErrNotFound (also for an expired TTL), ErrCorrupt, ErrInvalidKey, ErrClosed.
func (m *Manager) Retrieve(key string) ([]byte, error) {
	return m.retrieveAppend(nil, key)
}

// RetrieveAppend appends key's value to dst and returns the result, so that a
// caller that reuses its buffer copies the value once and allocates nothing.
// On an error it returns dst.
func (m *Manager) RetrieveAppend(dst []byte, key string) ([]byte, error) {
	return m.retrieveAppend(dst, key)
}

func (m *Manager) retrieveAppend(dst []byte, key string) ([]byte, error) {
	r := appendReads.Get().(*appendRead)
	err := m.readAppend(key, owned, dst, r.keep)
	out := r.out
	r.out = nil
	appendReads.Put(r)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// RetrieveShared is RetrieveAppend that does not copy a value the tier
// can share: a hot value of 64 KiB or more (with its key), whose memory
// the hot tier never writes again once it is stored (a replacement gets
// new memory; the garbage collector keeps the old for as long as it is
// referenced). For such a value it returns the tier's memory itself and
// shared true: the caller must not modify it, may keep it as long as it
// likes, and must not append to it or reuse it as a buffer. Any other
// value is appended to dst, as RetrieveAppend does, with shared false. A
// large value is so served (an HTTP GET) without holding it twice.
func (m *Manager) RetrieveShared(dst []byte, key string) (value []byte, shared bool, err error) {
	// The read appends a copy to an empty slice over dst's spare capacity,
	// so that the value it delivers has the length of the stored one, which
	// decides whether the tier lends it.
	tail := dst[len(dst):]
	r := appendReads.Get().(*appendRead)
	err = m.readAppend(key, lent, tail, r.keepShared)
	value, shared, r.out, r.shared = r.out, r.shared, nil, false
	appendReads.Put(r)
	switch {
	case err != nil:
		return dst, false, err
	case shared:
		return value, true, nil
	case cap(tail) >= len(value): // appended in dst's own memory
		return dst[:len(dst)+len(value)], false, nil
	}
	return append(dst, value...), false, nil
}

// appendRead receives the result of an owned read: pooled, with its
// callback bound once, so that the read allocates nothing of its own.
type appendRead struct {
	out        []byte
	shared     bool                                          // set by setShared: out is the tier's memory
	keep       func(*tierState, []byte, header.Header) error // r.set
	keepShared func(*tierState, []byte, header.Header) error // r.setShared
}

func (r *appendRead) set(_ *tierState, value []byte, _ header.Header) error {
	r.out = value
	return nil
}

// setShared is set for a lent read into an empty dst, whose value has the
// stored value's length: the tier lends it or it is a copy.
func (r *appendRead) setShared(t *tierState, value []byte, _ header.Header) error {
	r.out, r.shared = value, t.lends(len(value))
	return nil
}

var appendReads = sync.Pool{New: func() any {
	r := &appendRead{}
	r.keep, r.keepShared = r.set, r.setShared
	return r
}}

// View calls fn with key's value without copying it where the tier allows
// (hot and warm). The slice is valid only until fn returns and must not be
// modified; fn must not call the Manager. View returns fn's error.
func (m *Manager) View(key string, fn func(value []byte) error) error {
	r := viewReads.Get().(*viewRead)
	r.fn = fn
	err := m.read(key, borrowed, r.call)
	r.fn = nil
	viewReads.Put(r)
	return err
}

// ViewShared is View whose fn also learns whether it may keep value after
// it returns: shared is true for a hot value of 64 KiB or more, whose
// memory the hot tier never writes again once it is stored (see
// RetrieveShared); the caller must still not modify it. When shared is
// false the slice is valid only until fn returns. A server so queues a
// large value for its connection without copying it.
func (m *Manager) ViewShared(key string, fn func(value []byte, shared bool) error) error {
	return m.viewShared(key, borrowed, fn)
}

// viewShared is ViewShared in mode borrowed or borrowedSmall.
func (m *Manager) viewShared(key string, mode readMode, fn func(value []byte, shared bool) error) error {
	r := viewReads.Get().(*viewRead)
	r.sharedFn = fn
	err := m.read(key, mode, r.callShared)
	r.sharedFn = nil
	viewReads.Put(r)
	return err
}

// SmallValueMax is the longest value ViewSharedSmall reads, unless its
// tier shares it or has read it whole already (a glacier value).
const SmallValueMax = 1 << 20

// ViewSharedSmall is ViewShared for a caller that sends small values from
// one buffer and large ones in pieces (a server): a value longer than
// SmallValueMax that its tier does not share is not read, and it returns
// an error wrapping ErrTooLarge. Open such a value with OpenValue, which
// reads one stored uncompressed where it lies or from disk as asked (a
// compressed one it decompresses into memory once). A cold value's length
// comes from the tier's index, a compressed warm one's from its header, so
// a large one costs no read. The refused read counts for nothing (the OpenValue that follows
// counts).
func (m *Manager) ViewSharedSmall(key string, fn func(value []byte, shared bool) error) error {
	return m.viewShared(key, borrowedSmall, fn)
}

// errLargeValue refuses a ViewSharedSmall of a value over SmallValueMax.
var errLargeValue = fmt.Errorf("%w: the value is over %d bytes: open it with OpenValue", ErrTooLarge, SmallValueMax)

// viewRead adapts View's callback to a read's: pooled, with its methods
// bound once, so that a View allocates nothing of its own.
type viewRead struct {
	fn         func(value []byte) error
	sharedFn   func(value []byte, shared bool) error
	call       func(*tierState, []byte, header.Header) error // r.deliver
	callShared func(*tierState, []byte, header.Header) error // r.deliverShared
}

func (r *viewRead) deliver(_ *tierState, value []byte, _ header.Header) error { return r.fn(value) }

// deliverShared calls sharedFn: a borrowed read hands over the store's own
// memory, which a lending tier lets the caller keep.
func (r *viewRead) deliverShared(t *tierState, value []byte, _ header.Header) error {
	return r.sharedFn(value, t.lends(len(value)))
}

var viewReads = sync.Pool{New: func() any {
	r := &viewRead{}
	r.call, r.callShared = r.deliver, r.deliverShared
	return r
}}

// readMode says what the slice a read hands over is, and whether the read
// counts for policies and promotion.
type readMode int

const (
	borrowed      readMode = iota // valid during the callback only; counted
	owned                         // appended to the caller's slice, the caller's to keep; counted
	uncounted                     // borrowed, and not counted (SaveTo)
	lent                          // the tier's memory where it lends it (tier.Lender), else owned; the caller's to keep
	borrowedSmall                 // borrowed, refusing a value over SmallValueMax its tier does not lend (errLargeValue)
	lentUncounted                 // lent, and not counted (PeekValue)
)

// Tier returns the fastest tier that holds key.
func (m *Manager) Tier(key string) (Tier, error) {
	tok, err := m.enterKey(key)
	if err != nil {
		return 0, err
	}
	defer m.gate.Leave(tok)
	for attempt := range 2 {
		if attempt == 1 { // a move may have raced the first look
			lock := m.locks.Of(key)
			lock.RLock()
			defer lock.RUnlock()
		}
		t, err := m.holder(key)
		if t != nil {
			return t.level, nil
		}
		if !errors.Is(err, errNoHolder) {
			return 0, err
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrNotFound, key)
}

// errNoHolder is holder's answer when no tier holds the key.
var errNoHolder = fmt.Errorf("%w: no tier holds the key", ErrNotFound)

// holder returns the fastest tier that holds key, by the tiers' indexes:
// errNoHolder when none does, ErrNotFound when its TTL ran out.
func (m *Manager) holder(key string) (*tierState, error) {
	for _, t := range m.tiers {
		meta, err := t.store.Meta(key)
		if err != nil {
			continue
		}
		env, err := decodeHeader(meta)
		if err != nil {
			return nil, fmt.Errorf("reading %q in the %s tier: %w", key, t.level, err)
		}
		if env.Expired(m.now()) {
			return nil, fmt.Errorf("%w: %q (expired)", ErrNotFound, key)
		}
		return t, nil
	}
	return nil, errNoHolder
}

// errExpired stops a read of a value whose TTL ran out.
var errExpired = errors.New("tiermem: expired")

// read finds key in the fastest tier that has it and calls fn with the value
// and header, after checking the TTL and, for values read from disk, the
// checksum. The lookup runs without the key's lock; a miss is confirmed under
// it, since a move writes the destination before deleting the source but a
// reader going down the tiers could pass both. count records the read for
// policies and promotion.
func (m *Manager) read(key string, mode readMode, fn func(t *tierState, value []byte, env header.Header) error) error {
	return m.readAppend(key, mode, nil, fn)
}

// readAppend is read with, in owned mode, the value appended to dst: fn
// gets dst and the value, or is not called and dst is left as it was.
func (m *Manager) readAppend(key string, mode readMode, dst []byte, fn func(t *tierState, value []byte, env header.Header) error) error {
	tok, err := m.enterKey(key)
	if err != nil {
		return err
	}
	defer m.gate.Leave(tok)
	if c := m.analytics.Load(); c != nil && mode != uncounted { // analytics_counters.go
		return m.readObserved(c, tok, key, mode, dst, fn)
	}
	t, err := m.readLocked(key, mode, dst, fn)
	if err != nil {
		return m.readError(key, err)
	}
	if mode != uncounted {
		m.accessed(t, key)
	}
	return nil
}

// readError turns the error of a read of key into the one the caller gets,
// deleting the key if its TTL ran out.
func (m *Manager) readError(key string, err error) error {
	switch {
	case errors.Is(err, errExpired):
		m.expire(key) // a copy it fails to delete waits for the next pass
		return notFound(key, " (expired)")
	case errors.Is(err, tier.ErrNotFound):
		return notFound(key, "")
	}
	return storeError(err)
}

// notFound returns ErrNotFound for key, with why after it in its message
// ("%w: %q" and why, as fmt.Errorf would make it), the message made only
// when asked for: a miss is common, and its caller mostly tests it with
// errors.Is. key is copied, as callers may pass a string over memory they
// reuse.
func notFound(key, why string) error {
	return &notFoundError{key: strings.Clone(key), why: why}
}

type notFoundError struct{ key, why string }

func (e *notFoundError) Error() string {
	return fmt.Sprintf("%v: %q%s", ErrNotFound, e.key, e.why)
}

func (e *notFoundError) Unwrap() error { return ErrNotFound }

// readLocked reads key as if under its lock's read side, so that no Store
// or Move of the key runs during the look. A look without it, through the
// tiers in order, could read an older value after a newer one while the
// key moved between tiers and was replaced (TestReadsWhileTheOnlyKeyMoves).
// A read that copies the value out (owned) first looks in the memory tiers
// without the lock, and keeps what it found if no writer took the lock
// meanwhile (optimistic): taking the read side writes the lock's memory,
// which the other cores then fetch back, and that was a tenth of a warm
// read's time with two readers. Every write of a key's tiers is made under
// its lock's write side.
func (m *Manager) readLocked(key string, mode readMode, dst []byte, fn func(*tierState, []byte, header.Header) error) (*tierState, error) {
	lock := m.locks.Of(key)
	if mode == owned {
		if t, done, err := m.optimistic(lock, key, dst, fn); done {
			return t, err
		}
	}
	lock.RLock()
	defer lock.RUnlock()
	return m.readTiers(m.tiers, key, mode, dst, fn)
}

// optimistic is an owned read of key in the memory tiers without its lock.
// It reports done false, having called nothing, when a writer held or took the
// lock meanwhile, or no memory tier holds the key: a slower tier is read
// under the lock, so that a write of another key of the stripe during a
// slow read does not make it read twice. fn runs once, on a read that
// stands, with the copy the read made.
func (m *Manager) optimistic(lock *keylock.Stripe, key string, dst []byte, fn func(*tierState, []byte, header.Header) error) (*tierState, bool, error) {
	v, ok := lock.Begin()
	if !ok {
		return nil, false, nil
	}
	h := heldReads.Get().(*heldRead)
	t, err := m.readTiers(m.tiers[:Cold], key, owned, dst, h.keep)
	held := *h
	*h = heldRead{keep: h.keep}
	heldReads.Put(h)
	switch {
	case errors.Is(err, tier.ErrNotFound) || !lock.Unchanged(v):
		return nil, false, nil
	case err != nil:
		return t, true, err
	}
	return t, true, fn(held.t, held.value, held.env)
}

// heldRead keeps what an optimistic read found, for its function to get
// once the read is known to stand. Pooled, with keep bound once, so that a
// read allocates nothing.
type heldRead struct {
	t     *tierState
	value []byte
	env   header.Header
	keep  func(*tierState, []byte, header.Header) error // hold
}

func (h *heldRead) hold(t *tierState, value []byte, env header.Header) error {
	h.t, h.value, h.env = t, value, env
	return nil
}

var heldReads = sync.Pool{New: func() any {
	h := &heldRead{}
	h.keep = h.hold
	return h
}}

// readTiers looks for key in each of tiers, fastest first. The key's lock
// is held, or the read is optimistic.
func (m *Manager) readTiers(tiers []*tierState, key string, mode readMode, dst []byte, fn func(*tierState, []byte, header.Header) error) (*tierState, error) {
	for _, t := range tiers {
		if err := m.readTier(t, key, mode, dst, fn); !errors.Is(err, tier.ErrNotFound) {
			return t, err
		}
	}
	return nil, tier.ErrNotFound
}

// readTier reads key from t: in place, or, when the caller keeps the value
// and the store can, straight onto the end of dst.
func (m *Manager) readTier(t *tierState, key string, mode readMode, dst []byte, fn func(*tierState, []byte, header.Header) error) error {
	quiet := mode == uncounted
	if mode == lentUncounted {
		mode, quiet = lent, true
	}
	if mode == lent && t.lender == nil {
		mode = owned
	}
	if mode == borrowedSmall && t.valueLener != nil {
		if n, err := t.valueLener.ValueLen(key); err == nil && n > SmallValueMax {
			return errLargeValue // not read: the store would read it whole first
		}
	}
	if t.getter != nil && mode == owned {
		value, meta, err := t.getter.GetMeta(key, dst)
		if err != nil {
			return err
		}
		return m.deliver(t, key, value, meta, fn)
	}
	r := tierReads.Get().(*tierRead)
	r.m, r.t, r.key, r.mode, r.dst, r.fn = m, t, key, mode, dst, fn
	var err error
	if t.toucher != nil && !quiet { // the read records itself (heapVictims)
		err = t.toucher.ViewMetaTouch(key, r.view)
	} else {
		err = t.store.ViewMeta(key, r.view)
	}
	*r = tierRead{view: r.view}
	tierReads.Put(r)
	return err
}

// deliver checks a value's header (corruption, TTL) and calls fn.
func (m *Manager) deliver(t *tierState, key string, value, meta []byte, fn func(*tierState, []byte, header.Header) error) error {
	env, err := decodeHeader(meta)
	if err != nil {
		return fmt.Errorf("reading %q from the %s tier: %w", key, t.level, err)
	}
	if env.Expires != 0 && env.Expired(m.now()) {
		return errExpired
	}
	return fn(t, value, env)
}

// tierRead carries a read through a store's ViewMeta callback: pooled, with
// its callback bound once, so that a read allocates nothing.
type tierRead struct {
	m    *Manager
	t    *tierState
	key  string
	mode readMode
	dst  []byte // owned mode: what the value is appended to
	fn   func(*tierState, []byte, header.Header) error
	view func(value, meta []byte) error // r.viewMeta
}

func (r *tierRead) viewMeta(value, meta []byte) error {
	if r.mode == borrowedSmall && len(value) > SmallValueMax && !r.t.lends(len(value)) && r.t.persistent == nil {
		return errLargeValue // in place in memory: refused before any copy (a value read from disk is here already)
	}
	if r.mode == owned || r.mode == lent && !r.t.lends(len(value)) {
		value = append(r.dst, value...) // unlike make, skips zeroing what it copies over
	}
	return r.m.deliver(r.t, r.key, value, meta, r.fn)
}

var tierReads = sync.Pool{New: func() any {
	r := &tierRead{}
	r.view = r.viewMeta
	return r
}}

// accessed records a read for the tier's policy and for promotion: a key
// read PromoteHits times within the window waits for the next migration
// pass to move it up.
func (m *Manager) accessed(t *tierState, key string) {
	if t.victims != nil {
		t.victims.accessed(key)
	}
	h := freq.Hash(key)
	if m.freq.AddHash(h) >= m.opts.PromoteHits && t.level > Hot && m.hasRoomAbove(t) {
		m.promote.add(key, h)
	}
}

// hasRoomAbove reports whether the tier above t may take a promotion: it
// is below its high watermark, and, if a promotion found no room in it
// since the last pass began, uses less than it did then. A read need not
// queue its key (nor copy it) when a pass would promote nothing.
func (m *Manager) hasRoomAbove(t *tierState) bool {
	up := m.tiers[t.level-1]
	full := up.fullAt.Load()
	return m.belowHigh(up) && (full == 0 || up.used() < full)
}

// belowHigh reports whether t uses less than its high watermark.
func (m *Manager) belowHigh(t *tierState) bool {
	return float64(t.used()) < m.opts.HighWatermark*float64(t.capacity())
}

// expire deletes key's copies whose TTL has run out, and forgets its
// expiry once no copy is left: Expiring no longer counts it. A copy whose
// delete fails (a full disk for the cold tier's tombstone) stays, and the
// first such error is returned; the soonest expiry of the copies left is
// recorded again, so that the next pass retries the delete and still
// expires a copy stored again meanwhile.
func (m *Manager) expire(key string) error {
	lock := m.locks.Of(key)
	lock.Lock()
	defer lock.Unlock()
	gone := true
	var next int64 // the soonest expiry of a copy left
	var first error
	for _, t := range m.tiers {
		meta, err := t.store.Meta(key)
		if err != nil {
			continue
		}
		env, err := decodeHeader(meta)
		if err != nil || !env.Expired(m.now()) {
			gone = false // stored again meanwhile
			next = soonest(next, env.Expires)
			continue
		}
		removed, err := m.removeFrom(t, key)
		if err != nil {
			gone, next = false, soonest(next, env.Expires)
			first = cmp.Or(first, err)
			continue
		}
		if removed {
			t.expirations.Add(1)
		}
	}
	switch {
	case gone:
		m.ttl.set(key, 0)
	case next != 0:
		m.ttl.set(key, next)
	}
	return first
}

// soonest returns the sooner of two expiries, 0 being never.
func soonest(a, b int64) int64 {
	if a == 0 || b != 0 && b < a {
		return b
	}
	return a
}
