package tiermem

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/tiermem/tiermem/internal/header"
)

// Entry is a key's state as UpdateEntry hands it to its function, which
// may change any field.
type Entry struct {
	Value   []byte    // the value, a copy the function owns; nil when not Found
	Found   bool      // the key held a value (not expired)
	Expires time.Time // when the key expires; the zero Time: never
	Pinned  bool      // the key is pinned in its tier (see Pinned)
}

// Update changes key's value atomically: fn gets the present value (a copy
// it owns; nil and found false when the key is absent or expired) and
// returns the new one, or keep false to delete the key (or leave an absent
// key absent), or an error, which Update returns with nothing changed. No
// other Store, Update or Delete of key comes between the read fn sees and
// the write. The key keeps its TTL and pin; a new key has neither, and
// goes where Store would put it; a present one stays in its tier, and
// keeps its kind: fn sees an array's or a Go value's encoded bytes, and
// may delete such a key but not change its bytes.
//
// fn runs with the key's lock held and must not call the Manager. It may
// run more than once (when room must first be made in the key's tier, or
// the tier's store is full): only its last result is stored, so it must
// depend on its arguments alone. Errors: fn's, ErrType when fn changes the
// bytes of a key that holds an array or a Go value, and those of Store.
func (m *Manager) Update(key string, fn func(old []byte, found bool) (value []byte, keep bool, err error)) error {
	return m.UpdateEntry(key, func(e *Entry) (bool, error) {
		v, keep, err := fn(e.Value, e.Found)
		e.Value = v
		return keep, err
	})
}

// UpdateEntry is Update with the key's TTL and pin in hand: fn may change
// them along with the value. An Expires at or before now deletes the key;
// one past 2262 (beyond an int64 of nanoseconds) is kept as 2262's.
func (m *Manager) UpdateEntry(key string, fn func(e *Entry) (keep bool, err error)) error {
	return m.modify(key, fn)
}

// updateTries bounds the times an Update makes room and runs fn again.
const updateTries = 8

// modify runs fn on key's entry and writes the result under the key's
// lock.
func (m *Manager) modify(key string, fn func(e *Entry) (bool, error)) error {
	_, err := m.modifyIn(key, fn)
	return err
}

// modifyIn is modify that also reports the tier the key's value was
// written in (Hot when none was).
func (m *Manager) modifyIn(key string, fn func(e *Entry) (bool, error)) (Tier, error) {
	tok, err := m.enterKey(key)
	if err != nil {
		return Hot, err
	}
	defer m.gate.Leave(tok)
	u := updater{m: m, key: key, fn: fn}
	defer u.release()
	for try := 0; ; try++ {
		done, err := u.once(try < updateTries)
		if done || err != nil {
			return u.wrote, err
		}
		if try == updateTries {
			return Hot, fmt.Errorf("%w: updating %q: room for the new value could not be kept", ErrNoSpace, key)
		}
	}
}

// updater is one Update: the room it reserved so far, kept across tries.
type updater struct {
	m       *Manager
	key     string
	fn      func(e *Entry) (bool, error)
	room    reservation // in the target tier
	logRoom reservation // in the cold log, when the write goes through to it
	wrote   Tier        // the tier the value was written in
}

// release gives back the room reserved.
func (u *updater) release() {
	u.room.release()
	u.logRoom.release()
	u.room, u.logRoom = reservation{}, reservation{}
}

// once runs fn under the key's lock and writes its result if the room it
// needs is there; otherwise it makes room (without the lock) and reports
// false, and the caller tries again.
func (u *updater) once(mayRetry bool) (bool, error) {
	m := u.m
	lock := m.locks.Of(u.key)
	lock.Lock()
	w, err := u.decideLocked()
	if err != nil || w.remove {
		lock.Unlock()
		if err == nil && m.syncsRemoval(u.key, w.inGlacier) {
			err = m.syncDelete(u.key)
		}
		return true, err
	}
	if w.t == nil { // an absent key left absent
		lock.Unlock()
		return true, nil
	}
	u.wrote = w.t.level
	if w.header != nil {
		if done, err := m.setHeaderLocked(u.key, *w.header); done {
			lock.Unlock()
			return true, err
		}
	}
	if u.holdsLocked(w) || u.tryReserve(w) {
		err = m.putOnceLocked(u.key, w.value, w.meta, w.env, w.t, w.through, nil)
		lock.Unlock()
		u.release()
		if errors.Is(err, errStoreFull) && mayRetry && m.evictOneBut(w.t, sparing(u.key)) == nil {
			return false, nil
		}
		return true, err
	}
	lock.Unlock()
	u.release()
	// The key is not demoted to make room for its own new value: it stays
	// in its tier.
	if u.room, err = m.reserveRewrite(w.t, u.key, u.key, len(w.value), len(w.meta)); err != nil {
		return true, fmt.Errorf("updating %q in the %s tier: %w", u.key, w.t.level, err)
	}
	if w.through {
		if u.logRoom, err = m.reserveFor(m.tiers[Cold], u.key, len(w.value), len(w.meta), true, waitStreams); err != nil {
			return true, fmt.Errorf("updating %q in the cold log: %w", u.key, err)
		}
	}
	return false, nil
}

// write is what an update decided: a removal, or a value to write.
type write struct {
	remove, inGlacier bool // delete the key; glacier held it
	t                 *tierState
	value, meta       []byte
	env               header.Header
	through           bool          // the write goes to the cold log too
	header            *headerChange // the value is unchanged: only its header need change, if the tier has room
}

// decideLocked reads the key's entry, runs fn, and returns what to write,
// after removing the key if fn says so. The key's lock is held.
func (u *updater) decideLocked() (write, error) {
	m := u.m
	now := m.now()
	// What the read saw, in one allocation: the callback and fn capture it.
	r := &struct {
		env  header.Header
		from *tierState
		old  []byte // the meta, kept for sameValue
		e    Entry
	}{}
	found, err := m.viewStateLocked(u.key, now.UnixNano(), func(t *tierState, value, meta []byte) error {
		var err error
		r.env, err = decodeHeader(meta)
		if len(value) >= headerOnlyMin {
			r.old = bytes.Clone(meta)
		}
		// A copy fn owns and may keep: the server replies a GETDEL's or
		// GETEX's old value from it, after the update returns.
		r.e.Value, r.from = bytes.Clone(value), t
		if r.e.Value == nil {
			r.e.Value = []byte{}
		}
		return err
	})
	if err != nil {
		return write{}, err
	}
	env, from, e := r.env, r.from, &r.e
	var encoded []byte // an array's or a Go value's bytes, which fn must not change
	if found && env.Kind != header.Bytes {
		encoded = bytes.Clone(e.Value)
	}
	e.setHeader(found, env)
	keep, err := u.fn(e)
	if err != nil {
		return write{}, err
	}
	if e.deletes(keep, now) {
		if !found {
			return write{}, nil
		}
		w := write{remove: true}
		w.inGlacier, err = m.removeAllLocked(u.key)
		return w, err
	}
	if encoded != nil && !bytes.Equal(e.Value, encoded) {
		return write{}, fmt.Errorf("%w: %q holds %v, whose bytes an Update cannot change", ErrType, u.key, env.Kind)
	}
	env.Pinned, env.Expires = e.Pinned, expiresNano(e.Expires)
	w := write{value: e.Value, env: env, t: from}
	w.meta = env.Encode()
	if !found || m.outgrows(u.key, from, &w) {
		if w.t, err = m.placement(u.key, len(w.value), len(w.meta), storeOptions{}); err != nil {
			return write{}, err
		}
	}
	w.through = m.durable() && w.t.level < Cold
	if found && w.t == from && len(e.Value) >= headerOnlyMin {
		w.header = m.sameValue(u.key, from, r.old, env, e.Value)
	}
	return w, nil
}

// outgrows reports whether w, an update of key's entry in from, no longer
// fits from's whole budget (an APPEND past it): unless the key is pinned
// there, it is then placed as a Store of its value would be, as Redis
// takes any value its memory holds. A pinned key stays, and its update
// fails with ErrTooLarge.
func (m *Manager) outgrows(key string, from *tierState, w *write) bool {
	return !w.env.Pinned && from.estimate(key, len(w.value), len(w.meta)) > from.capacity()
}

// setHeader sets e's Found, Pinned and Expires from a key's header.
func (e *Entry) setHeader(found bool, env header.Header) {
	e.Found, e.Pinned = found, env.Pinned
	if env.Expires != 0 {
		e.Expires = time.Unix(0, env.Expires)
	}
}

// deletes reports whether an update's function, which returned keep,
// left e to be deleted: not kept, or expired at now.
func (e *Entry) deletes(keep bool, now time.Time) bool {
	return !keep || !e.Expires.IsZero() && !e.Expires.After(now)
}

// headerOnlyMin is the smallest value an update that leaves it as it was
// writes by its header alone (sameValue): below it, comparing the value
// with the tier's and changing the header in place saves less than a
// rewrite costs (a 100-byte GETEX took 1.2 µs by a rewrite, 3 µs so).
const headerOnlyMin = 4 << 10

// sameValue returns the change of header alone that stores value under
// key in from, when from is a memory tier whose store (and the cold log's,
// when the change must reach it) sets meta and holds value already (an
// update of the TTL or pin only, such as GETEX); nil otherwise. A cold
// key is rewritten: comparing would read and decode its value a second
// time (a 1 MiB UpdateEntry of the TTL took 0.58 ms so, 0.34 ms by the
// rewrite). The key's lock is held.
func (m *Manager) sameValue(key string, from *tierState, old []byte, env header.Header, value []byte) *headerChange {
	if from.level >= Cold {
		return nil
	}
	c, ok := m.headerChangeFor(from, old, env)
	if !ok {
		return nil
	}
	same := false
	err := from.store.ViewMeta(key, func(v, _ []byte) error {
		same = bytes.Equal(v, value)
		return nil
	})
	if err != nil || !same {
		return nil
	}
	return &c
}

// expiresNano returns an expiry as a header keeps it: Unix ns, 0 for none,
// capped at the largest an int64 holds (in 2262).
func expiresNano(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.After(maxExpiry):
		return math.MaxInt64
	}
	return t.UnixNano()
}

var maxExpiry = time.Unix(0, math.MaxInt64)

// removeAllLocked removes key from every tier, slowest first, and reports
// whether glacier held it. The key's lock is held.
func (m *Manager) removeAllLocked(key string) (inGlacier bool, err error) {
	for i := len(m.tiers) - 1; i >= 0; i-- {
		removed, err := m.removeFrom(m.tiers[i], key)
		if err != nil {
			return inGlacier, fmt.Errorf("tiermem: deleting %q: %w", key, err)
		}
		inGlacier = inGlacier || removed && m.tiers[i] == m.glacier
	}
	m.ttl.set(key, 0)
	return inGlacier, nil
}

// holdsLocked reports whether the room reserved on an earlier try covers
// the write. The key's lock is held.
func (u *updater) holdsLocked(w write) bool {
	covers := func(r reservation, t *tierState) bool {
		return r.reserved && r.t == t && r.holds() && t.estimate(u.key, len(w.value), len(w.meta))-r.old <= r.n
	}
	return covers(u.room, w.t) && (!w.through || covers(u.logRoom, u.m.tiers[Cold]))
}

// tryReserve takes the room the write needs if it is free now, without
// making any.
func (u *updater) tryReserve(w write) bool {
	u.release()
	est := w.t.estimate(u.key, len(w.value), len(w.meta))
	if w.t.fits(est, len(w.value)) != nil || !w.t.tryReserve(est) {
		return false
	}
	u.room = reservation{t: w.t, key: u.key, n: est, reserved: true}
	if !w.through {
		return true
	}
	cold := u.m.tiers[Cold]
	est = cold.estimate(u.key, len(w.value), len(w.meta))
	if cold.fits(est, len(w.value)) != nil || !cold.tryReserve(est) {
		u.release()
		return false
	}
	u.logRoom = reservation{t: cold, key: u.key, n: est, reserved: true}
	return true
}
