package tiermem

import (
	"errors"
	"fmt"
	"time"

	"github.com/tiermem/tiermem/internal/header"
	"github.com/tiermem/tiermem/tier"
)

// StoreOption changes how Store places a value.
type StoreOption func(storeOptions) storeOptions

type storeOptions struct {
	tier    Tier
	named   bool // a tier was named
	ttl     time.Duration
	pinned  bool
	cond    func(*Current) error // OnlyIf's
	invalid error
}

// InTier stores the value in tier t (making room there by demoting other
// entries). Without it the Manager picks the fastest tier whose budget can
// hold the value.
func InTier(t Tier) StoreOption {
	if int(t) < len(inTier) {
		return inTier[t]
	}
	return func(o storeOptions) storeOptions {
		o.invalid = fmt.Errorf("%w: %v", ErrUnknownTier, t)
		return o
	}
}

// inTier holds one InTier option per tier, so that naming a tier allocates nothing.
var inTier = func() (opts [Glacier + 1]StoreOption) {
	for t := range opts {
		opts[t] = func(o storeOptions) storeOptions {
			o.tier, o.named = Tier(t), true
			return o
		}
	}
	return opts
}()

// WithTTL makes the value expire d after the Store: reads then miss, and a
// migration pass deletes it. d must be positive.
func WithTTL(d time.Duration) StoreOption {
	return func(o storeOptions) storeOptions {
		o.ttl = d
		if d <= 0 {
			o.invalid = fmt.Errorf("%w: WithTTL(%v): a TTL must be positive", ErrOptions, d)
		}
		return o
	}
}

// header returns the header of a value stored with o at the time now
// tells (asked only for a TTL): a TTL that
// would end past what a time in nanoseconds holds (the year 2262) ends
// then, as a Redis EXPIRE that far does.
func (o storeOptions) header(now func() time.Time) header.Header {
	env := header.Header{Pinned: o.pinned}
	if o.ttl > 0 { // the clock only then: most Stores have no TTL
		env.Expires = expiresNano(now().Add(o.ttl))
	}
	return env
}

// Pinned keeps the value in the tier it is stored in: no migration pass and
// no need for room ever demotes or promotes it (Move still can).
func Pinned() StoreOption { return pinned }

var pinned StoreOption = func(o storeOptions) storeOptions {
	o.pinned = true
	return o
}

// Store stores a copy of value under key, replacing any earlier value in
// every tier. It returns when the value is in its tier (and, with Durability
// Always, on disk). Errors: ErrInvalidKey, ErrUnknownTier, ErrTooLarge for a
// value bigger than the tier's budget, ErrNoSpace when no room can be made,
// ErrClosed.
func (m *Manager) Store(key string, value []byte, opts ...StoreOption) error {
	return m.storeKind(key, value, header.Header{}, opts)
}

// storeKind stores value with a header of the given kind and the options.
func (m *Manager) storeKind(key string, value []byte, env header.Header, opts []StoreOption) error {
	var o storeOptions
	for _, opt := range opts {
		o = opt(o)
	}
	if o.invalid != nil {
		return o.invalid
	}
	return m.storeWith(key, value, env, o, prepared{})
}

// prepared is a value read into memory the store of tier t prepared for
// it (StoreFrom), with the room reserved for it in t before its first byte
// was read; the zero value is none. cond, OnlyIf's, goes with any put.
type prepared struct {
	t    *tierState
	pend tier.Pending
	room *reservation // handed to the first put that can use it
	// coldRoom, when not nil, is room held in the cold tier for the cold
	// log's copy of a durable write (StoreMany), handed on as room is.
	coldRoom *reservation
	cond     func(*Current) error
}

// storeWith stores value with a header env and the options o: in the tier
// placement chooses (or the next, when streams in flight hold the room it
// needs there), or, for a prepared value, in the tier that prepared it
// (value is then its pend's Value).
func (m *Manager) storeWith(key string, value []byte, env header.Header, o storeOptions, p prepared) error {
	env.Pinned, env.Expires = o.pinned, o.header(m.now).Expires
	p.cond = o.cond
	tok, err := m.enterKey(key)
	if err != nil {
		return err
	}
	defer m.gate.Leave(tok)
	if p.t == nil { // a stream was checked before it was read
		if err := m.precheck(key, o.cond); err != nil {
			return err
		}
	}
	meta := env.Encode()
	target := p.t
	if target == nil {
		if target, err = m.placement(key, len(value), len(meta), o); err != nil {
			return err
		}
	}
	wait := waitFor(o.named || p.t != nil) // else it goes on to the next tier
	for {
		if c := m.analytics.Load(); c != nil { // analytics_counters.go
			err = m.storeObserved(c, tok, key, value, meta, env, target, p, wait)
		} else {
			err = m.put(key, value, meta, env, target, p, wait)
		}
		if err == nil || o.named || p.t != nil {
			return err
		}
		if target, err = m.nextTier(target, key, len(value), len(meta), err); err != nil {
			return err // no tier below can hold it, or t was full for another reason
		}
	}
}

// checkKey returns an error wrapping ErrInvalidKey for an empty or too long key.
func checkKey(key string) error {
	if key == "" || len(key) > 1<<16-1 {
		return fmt.Errorf("%w: a key of %d bytes (want 1 to 65535)", ErrInvalidKey, len(key))
	}
	return nil
}

// placement returns the tier a value goes to: the one named, or the fastest
// whose budget can hold it beside the streams in flight there (or, when
// streams hold too much of every tier, whose budget can hold it at all:
// the Store then makes room or says why not).
func (m *Manager) placement(key string, n, metaLen int, o storeOptions) (*tierState, error) {
	if o.named {
		return m.tierOf(o.tier)
	}
	for _, t := range m.tiers {
		if t.estimate(key, n, metaLen) <= t.free() {
			return t, nil
		}
	}
	for _, t := range m.tiers {
		if t.estimate(key, n, metaLen) <= t.capacity() {
			return t, nil
		}
	}
	last := m.tiers[len(m.tiers)-1]
	return nil, fmt.Errorf("%w: a value of %d bytes takes %d bytes with its key and header, more than the budget of any tier (the largest, %s, has %d)",
		ErrTooLarge, n, last.estimate(key, n, metaLen), last.level, last.capacity())
}

// put writes value to t (and, with a durable log, to the cold tier too),
// then removes the key's older copies from the other tiers. A value that
// replaces one in the same tier needs only the difference in room; if the
// old entry changes before the key's lock is taken, put measures again.
// When t's store itself runs out of room before its budget does (a slab's
// size classes fragment), it demotes a victim and tries again, a few times.
//
// When p.pend is not nil, value is its Value, which t's store prepared:
// t's store takes that memory (Commit) in place of a copy of value, and
// the first try uses the room p holds in t. wait says whether it waits for
// streams that hold the room it needs in t.
func (m *Manager) put(key string, value, meta []byte, env header.Header, t *tierState, p prepared, wait patience) error {
	through := m.durable() && t.level < Cold
	for try := 0; ; try++ {
		err := m.putReserved(key, value, meta, env, t, through, try < putTries, p, wait)
		switch {
		case errors.Is(err, errReplaced) && try < putTries:
		case errors.Is(err, errStoreFull) && try < putTries && m.evictOne(t) == nil:
		default:
			return err
		}
	}
}

// putTries bounds the times a Store measures again, or demotes a victim
// because the tier's store is full below its budget.
const putTries = 8

var (
	// errStoreFull marks a Store that t's store refused for lack of room.
	errStoreFull = errors.New("tiermem: the tier's store is full")
	// errReplaced marks a Store whose key's entry changed while it reserved room.
	errReplaced = errors.New("tiermem: the entry changed while room was made")
)

// putReserved reserves the room the value needs in t (and in the cold log,
// when through), less what the key's present entry there occupies when
// discount is set, and stores it. A prepared value's room, taken before
// it was read, is used instead once.
func (m *Manager) putReserved(key string, value, meta []byte, env header.Header, t *tierState, through, discount bool, p prepared, wait patience) error {
	room, ok := p.room.take(t)
	var err error
	if !ok {
		room, err = m.reserveFor(t, key, len(value), len(meta), discount, wait)
	}
	if err != nil {
		return fmt.Errorf("storing %q in the %s tier: %w", key, t.level, err)
	}
	defer room.release()
	var coldRoom reservation
	if through {
		if coldRoom, ok = p.coldRoom.take(m.tiers[Cold]); !ok {
			coldRoom, err = m.reserveFor(m.tiers[Cold], key, len(value), len(meta), discount, waitStreams)
		}
		if err != nil {
			return fmt.Errorf("storing %q in the cold log: %w", key, err)
		}
		defer coldRoom.release()
	}
	lock := m.locks.Of(key)
	lock.Lock()
	defer lock.Unlock()
	if !room.holds() || through && !coldRoom.holds() {
		return errReplaced
	}
	if err := m.checkLocked(key, p.cond); err != nil {
		return err
	}
	return m.putOnceLocked(key, value, meta, env, t, through, p.pend)
}

// reservation is room taken in a tier for one entry, less the bytes of the
// entry it replaces.
type reservation struct {
	t        *tierState
	key      string
	n, old   int64
	reserved bool
	stream   bool // held by a stream (roomAhead): counted in t.streaming too
}

// reserveFor takes the room an entry of the given sizes needs in t; when
// the tier has not that much free, less the bytes key's present entry
// occupies there if discount is set. wait says whether it waits for
// streams that hold the room (see reserve).
func (m *Manager) reserveFor(t *tierState, key string, valueLen, metaLen int, discount bool, wait patience) (reservation, error) {
	return m.reserveForSparing(t, key, valueLen, metaLen, discount, wait, nil)
}

// reserveRewrite reserves the room a rewrite of src's value under key
// (itself for an Update) needs in t, making it by demoting other entries
// than src, so that the value stays in its tier; when no other entry can
// go (the rest is pinned), src itself is demoted as any victim would be,
// and the rewrite lands in the tier below rather than failing.
func (m *Manager) reserveRewrite(t *tierState, key, src string, valueLen, metaLen int) (reservation, error) {
	r, err := m.reserveForSparing(t, key, valueLen, metaLen, true, waitStreams, sparing(src))
	if errors.Is(err, ErrNoSpace) {
		r, err = m.reserveFor(t, key, valueLen, metaLen, true, waitStreams)
	}
	return r, err
}

// reserveForSparing is reserveFor making no room by demoting a key spare
// spares: those whose writes the room is for.
func (m *Manager) reserveForSparing(t *tierState, key string, valueLen, metaLen int, discount bool, wait patience, spare spared) (reservation, error) {
	r := reservation{t: t, key: key}
	est := t.estimate(key, valueLen, metaLen)
	if err := t.fits(est, valueLen); err != nil {
		return r, err
	}
	if t.tryReserve(est) { // room for the whole entry: no need to look for the old one
		r.n, r.reserved = est, true
		return r, nil
	}
	if discount {
		r.old = t.sizeOf(key)
	}
	r.n = max(est-r.old, 0)
	if err := m.reserveSparing(t, r.n, valueLen, wait, spare); err != nil {
		return r, err
	}
	r.reserved = true
	return r, nil
}

// take hands over the room r holds in t to its caller, who then releases
// it; false when r is nil, spent, or for another tier.
func (r *reservation) take(t *tierState) (reservation, bool) {
	if r == nil || !r.reserved || r.t != t {
		return reservation{}, false
	}
	held := *r
	r.reserved = false
	return held, true
}

// holds reports whether the entry the reservation discounted is still
// there, as large: the key's lock is held.
func (r reservation) holds() bool { return r.old == 0 || r.t.sizeOf(r.key) == r.old }

// release gives the room back once the write it was for is done (its bytes
// are then counted by the store) or abandoned.
func (r reservation) release() {
	if !r.reserved {
		return
	}
	if r.stream {
		r.t.streaming.Add(-r.n)
	}
	r.t.unreserve(r.n)
}

// putOnceLocked writes the value under the key's lock. With a durable log
// the value goes to t first and then to the cold log, before any older
// copy is dropped from another tier, and a failure of the log's write
// takes the first back: the key keeps the value it had, wherever it was
// (the log's, or glacier's), so a failed Store never changes what the
// next Open finds.
func (m *Manager) putOnceLocked(key string, value, meta []byte, env header.Header, t *tierState, through bool, pend tier.Pending) error {
	m.beforeChange(key)
	var logged func() error
	if through {
		if err := m.keepOldValueLocked(key); err != nil {
			return fmt.Errorf("storing %q: %w", key, err)
		}
		logged = func() error {
			if _, err := m.tiers[Cold].store.Put(key, value, meta); err != nil {
				return fmt.Errorf("storing %q in the cold log: %w", key, storeError(err))
			}
			return nil
		}
	}
	if err := m.putLocked(key, value, meta, env, t, logged, pend); err != nil {
		return err
	}
	m.ttl.set(key, env.Expires)
	return nil
}

// putLocked writes the value to t and drops the key from the other tiers.
// With logged (a durable write) it calls logged, which writes the cold
// log's copy, once the value is in t and before any other copy is dropped
// (the log's is then kept); when logged fails, the value leaves t and
// the Store fails with the older value where it was. The key's lock is
// held.
func (m *Manager) putLocked(key string, value, meta []byte, env header.Header, t *tierState, logged func() error, pend tier.Pending) error {
	var undo func()
	if t == m.glacier && m.durable() {
		var err error
		if undo, err = m.glacierUndo(key); err != nil {
			return fmt.Errorf("storing %q in the glacier tier: %w", key, err)
		}
	}
	charged, err := putIn(t, key, value, meta, pend)
	if err != nil {
		if errors.Is(err, tier.ErrNoSpace) && t.victims != nil {
			err = fmt.Errorf("%w: %w", errStoreFull, err)
		}
		return fmt.Errorf("storing %q in the %s tier: %w", key, t.level, storeError(err))
	}
	if undo != nil {
		if err := m.syncGlacier(); err != nil { // durable before any older copy goes
			undo()
			return fmt.Errorf("storing %q in the glacier tier: %w (the key keeps the value it had)", key, err)
		}
	}
	if t.victims != nil {
		t.victims.added(key, charged, env.Pinned)
	}
	through := logged != nil
	if through {
		if err := logged(); err != nil {
			m.removeFrom(t, key)
			return err
		}
	}
	if err := m.dropExceptLocked(key, t, through); err != nil {
		// The older value stays where it is, whole, and the Store fails;
		// with a durable write the log holds the new value already, and a
		// read may find it there before the older copy (a failed Store
		// whose outcome the error does not decide, never a lost value).
		m.removeFrom(t, key)
		if through {
			return fmt.Errorf("storing %q in the %s tier: %w (the new value may be read from the cold log)", key, t.level, err)
		}
		return fmt.Errorf("storing %q in the %s tier: %w", key, t.level, err)
	}
	return nil
}

// putIn stores value in t's store: pend's memory when not nil (value is
// its Value), else a copy.
func putIn(t *tierState, key string, value, meta []byte, pend tier.Pending) (int64, error) {
	if pend != nil {
		return pend.Commit(meta)
	}
	return t.store.Put(key, value, meta)
}
