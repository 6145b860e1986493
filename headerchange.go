package tiermem

import (
	"bytes"
	"errors"
	"fmt"
	"math"

	"github.com/tiermem/tiermem/internal/header"
	"github.com/tiermem/tiermem/tier"
)

// UpdateHeader is UpdateEntry for a change of key's TTL or pin alone: fn
// sees Found, Expires and Pinned, and Value nil; what it leaves in Value
// is ignored, and the key keeps its value, of any kind. An absent key
// stays absent, whatever fn returns.
//
// A key the hot, warm or cold tier holds is changed in that tier's entry
// (and first in the cold log's copy, when the Manager is durable): its
// value never passes through the Manager. A memory tier writes the new
// header where the old one lay, or moves the entry once inside its store
// when it does not fit; the cold tier appends the value's stored bytes,
// undecoded, with the new header. A key only glacier holds is rewritten.
// fn may run more than once, as Update's. Errors: fn's, and those of
// UpdateEntry.
func (m *Manager) UpdateHeader(key string, fn func(e *Entry) (keep bool, err error)) error {
	return m.UpdateHeaderView(key, fn, nil)
}

// UpdateHeaderView is UpdateHeader that also hands view the key's value,
// as it is when fn's change is made, atomically with it (a Redis GETEX):
// view is called once, when fn found the key and returned no error, also
// when fn's change deletes the key (view then sees the value it had). As
// with ViewShared, shared says that view may keep value after it returns
// (a hot value of 64 KiB or more, or a copy the change made); otherwise
// value is valid only until view returns. view's error is returned; the
// change stands. A nil view makes it UpdateHeader.
//
// A value handed to view counts as a read of it (its tier's policy, its
// ReadCount and promotion, and Analytics), as a Retrieve's would.
func (m *Manager) UpdateHeaderView(key string, fn func(e *Entry) (keep bool, err error), view func(value []byte, shared bool) error) error {
	err := m.updateHeaderView(key, fn, view)
	if err == nil && view != nil {
		m.noteRead(key)
	}
	return err
}

func (m *Manager) updateHeaderView(key string, fn func(e *Entry) (keep bool, err error), view func(value []byte, shared bool) error) error {
	if done, err := m.changeHeader(key, fn, view, nil); done {
		return err
	}
	return m.updateHeaderCopy(key, fn, view)
}

// updateHeaderCopy is UpdateHeaderView's general path: an update that
// copies the value, for what changeHeader cannot change in place.
func (m *Manager) updateHeaderCopy(key string, fn func(e *Entry) (keep bool, err error), view func(value []byte, shared bool) error) error {
	var v []byte
	found := false
	err := m.modify(key, func(e *Entry) (bool, error) {
		v, found = e.Value, e.Found
		e.Value = nil
		keep, err := fn(e)
		e.Value = v
		return keep && found, err
	})
	if err == nil && found && view != nil {
		return view(v, true) // the update's own copy
	}
	return err
}

// UpdateHeaderViewLarge is UpdateHeaderView for values of any size (a
// Redis GETEX): view gets a value of up to SmallValueMax, or a larger one
// the hot tier lends, as UpdateHeaderView gives it; a larger value in the
// warm tier's own mapping or stored raw in cold is instead opened where it
// lies and returned, as UpdateHeaderOpen returns it (view is then not
// called), so it is never copied whole. A nil reader and error: view got
// the value, or the key holds none. The value handed back counts as a
// read of it, as UpdateHeaderView's.
func (m *Manager) UpdateHeaderViewLarge(key string, fn func(e *Entry) (keep bool, err error), view func(value []byte, shared bool) error) (*ValueReader, error) {
	v, err := m.updateHeaderViewLarge(key, fn, view)
	if err == nil && (view != nil || v != nil) {
		m.noteRead(key)
	}
	return v, err
}

func (m *Manager) updateHeaderViewLarge(key string, fn func(e *Entry) (keep bool, err error), view func(value []byte, shared bool) error) (*ValueReader, error) {
	if v, done, err := m.changeOpening(key, fn, view); done {
		return v, err
	}
	return nil, m.updateHeaderCopy(key, fn, view)
}

// changeOpening is changeHeader with a reader to open the value into: it
// returns the reader, ready, when the value was opened, else nil (view got
// it, or the key holds none), and done as changeHeader's.
func (m *Manager) changeOpening(key string, fn func(e *Entry) (bool, error), view func([]byte, bool) error) (*ValueReader, bool, error) {
	v := &ValueReader{}
	done, err := m.changeHeader(key, fn, view, v)
	switch {
	case !done:
		return nil, false, nil
	case err == nil && v.opened():
		if err := v.ready(key); err != nil {
			return nil, true, err
		}
		return v, true, nil
	}
	v.Close()
	return nil, true, err
}

// UpdateHeaderOpen is UpdateHeader that also opens the key's value, as it
// is when fn's change is made, atomically with it: a Redis GETEX of a value
// too large to hold twice. The reader is OpenValue's (close it once done):
// a cold value stored raw is read from its segment, and verified against
// its checksum before UpdateHeaderOpen returns (a corrupt one is
// ErrCorrupt, the change made), a large hot or warm value where it lies;
// a value only glacier holds, or one fn's change deletes, is handed over
// as a copy. It returns a nil reader, and no error, when the key holds no
// value. Errors: those of UpdateHeader and OpenValue.
//
// The value opened counts as a read of it, as UpdateHeaderView's.
func (m *Manager) UpdateHeaderOpen(key string, fn func(e *Entry) (keep bool, err error)) (*ValueReader, error) {
	v, err := m.updateHeaderOpen(key, fn)
	if err == nil && v != nil {
		m.noteRead(key)
	}
	return v, err
}

func (m *Manager) updateHeaderOpen(key string, fn func(e *Entry) (keep bool, err error)) (*ValueReader, error) {
	if v, done, err := m.changeOpening(key, fn, nil); done {
		return v, err
	}
	var value []byte
	found := false
	at, err := m.modifyIn(key, func(e *Entry) (bool, error) {
		value, found = e.Value, e.Found
		e.Value = nil
		keep, err := fn(e)
		e.Value = value
		return keep && found, err
	})
	if err != nil || !found {
		return nil, err
	}
	return &ValueReader{tier: at, mem: value}, nil // the update's own copy
}

// openError is the error of opening key's value in t, nil for none.
func openError(key string, t *tierState, err error) error {
	if err != nil {
		return fmt.Errorf("tiermem: opening %q in the %s tier: %w", key, t.level, storeError(err))
	}
	return nil
}

// changeHeader runs fn on the header of a key a memory tier or the cold
// tier holds and writes the result in that tier's entry, and in the cold
// log's copy when the Manager is durable; then it hands view, if not nil,
// the value there, or opens it into open, if not nil; with both, it opens
// a value over SmallValueMax that lies where it can be read in place, and
// views any other. It reports done false, having changed nothing, where it
// cannot: the key is in no tier whose store sets meta, it has expired, fn
// deletes it, or a tier has no room for the new header; the caller then
// takes the general path.
func (m *Manager) changeHeader(key string, fn func(e *Entry) (bool, error), view func([]byte, bool) error, open *ValueReader) (done bool, err error) {
	tok, err := m.enterKey(key)
	if err != nil {
		return true, err
	}
	defer m.gate.Leave(tok)
	lock := m.locks.Of(key)
	lock.Lock()
	defer lock.Unlock()
	t, old := m.headerTierLocked(key)
	if t == nil {
		return false, nil
	}
	env, err := decodeHeader(old)
	now := m.now()
	if err != nil || env.Expired(now) {
		return false, nil // the general path reports the error, or the key as absent
	}
	c, ok := m.headerChangeFor(t, old, env)
	if !ok {
		return false, nil
	}
	var e Entry
	e.setHeader(true, env)
	keep, err := fn(&e)
	switch {
	case err != nil:
		return true, err
	case e.deletes(keep, now):
		return false, nil // the general path deletes
	}
	c.env.Pinned, c.env.Expires = e.Pinned, expiresNano(e.Expires)
	if done, err = m.setHeaderLocked(key, c); !done || err != nil {
		return done, err
	}
	switch {
	case open != nil && view != nil: // a large value opened where it lies, a smaller one viewed
		opened, err := m.openWhere(t, key, open, SmallValueMax+1)
		if opened || err != nil {
			return true, openError(key, t, err)
		}
		return true, viewIn(t, key, view)
	case open != nil:
		return true, openError(key, t, m.openIn(t, key, open))
	case view != nil:
		return true, viewIn(t, key, view)
	}
	return true, nil
}

// viewIn calls view with key's value in t, shared where t lends it. The
// key's lock is held.
func viewIn(t *tierState, key string, view func([]byte, bool) error) error {
	var viewErr error
	err := t.store.ViewMeta(key, func(value, _ []byte) error {
		viewErr = view(value, t.lends(len(value)))
		return viewErr
	})
	switch {
	case viewErr != nil:
		return viewErr
	case err != nil:
		return fmt.Errorf("tiermem: reading %q in the %s tier: %w", key, t.level, storeError(err))
	}
	return nil
}

// headerChange is a new header for a key's entry in a tier.
type headerChange struct {
	t   *tierState
	ms  tier.MetaSetter // t's store
	log tier.MetaSetter // the cold log's, when the Manager is durable and t is a memory tier
	old []byte          // the entry's meta now
	env header.Header   // the new header
}

// headerChangeFor returns the change of a header in key's entry in t, with
// the cold log's copy when the Manager is durable and t is a memory tier;
// false where a store cannot set meta.
func (m *Manager) headerChangeFor(t *tierState, old []byte, env header.Header) (headerChange, bool) {
	ms, ok := t.store.(tier.MetaSetter)
	if !ok || t.level > Cold {
		return headerChange{}, false
	}
	c := headerChange{t: t, ms: ms, old: old, env: env}
	if t.level < Cold && m.durable() {
		if c.log, ok = m.tiers[Cold].store.(tier.MetaSetter); !ok {
			return headerChange{}, false
		}
	}
	return c, true
}

// setHeaderLocked writes c's header in the cold log's copy, if c says so,
// then in its tier's entry, and then drops the key's other copies (as a
// Store drops them). It reports done false, with every copy as it was, when
// a tier has no room for it or the log has no copy to change. A failure
// leaves the key as it was: the other copies are dropped only once the
// header has changed, so a copy that could stand in for a value found
// corrupt stays. The key's lock is held.
func (m *Manager) setHeaderLocked(key string, c headerChange) (done bool, err error) {
	meta := c.env.Encode()
	if bytes.Equal(meta, c.old) {
		return true, nil // every copy holds this header already
	}
	m.beforeChange(key)
	if c.log != nil {
		_, done, err := m.setMetaIn(m.tiers[Cold], c.log, key, meta, c.old)
		if errors.Is(err, ErrCorrupt) {
			return false, nil // the general path writes the log's copy anew from memory
		}
		if !done || err != nil {
			return done, err
		}
	}
	charged, done, err := m.setMetaIn(c.t, c.ms, key, meta, c.old)
	if done && err == nil {
		if err = m.dropExceptLocked(key, c.t, c.log != nil); err != nil {
			err = fmt.Errorf("tiermem: changing the header of %q: %w", key, err)
			c.ms.SetMeta(key, c.old, math.MaxInt64) // back to the header the other copies keep
		}
	}
	if !done || err != nil {
		return m.putLogBack(key, c, done, err)
	}
	if c.t.victims != nil {
		c.t.victims.added(key, charged, c.env.Pinned)
	}
	m.ttl.set(key, c.env.Expires)
	return true, nil
}

// putLogBack gives the cold log's copy, if c changed it, the header the
// memory tier keeps after a change that was not done or failed with err,
// and returns what the change returns: done and err, with the put-back's
// error if it failed too (the log then keeps the new header). The general
// path, if taken, writes both anew.
func (m *Manager) putLogBack(key string, c headerChange, done bool, err error) (bool, error) {
	if c.log == nil {
		return done, err
	}
	if _, undo := c.log.SetMeta(key, c.old, math.MaxInt64); undo != nil {
		undo = fmt.Errorf("tiermem: changing the header of %q in the cold log back (the log keeps the new one): %w", key, storeError(undo))
		return true, errors.Join(err, undo)
	}
	return done, err
}

// setMetaIn writes meta in key's entry in t, whose store is ms, with room
// reserved in t's budget for its growth, and returns the bytes the entry
// occupies. It reports done false when t has no room, or no entry for
// key. The key's lock is held.
func (m *Manager) setMetaIn(t *tierState, ms tier.MetaSetter, key string, meta, old []byte) (charged int64, done bool, err error) {
	grow := max(int64(len(meta)-len(old)), 0) + headerSlack
	if t.level < Cold { // a record on disk grows by the header's growth alone
		grow += t.sizeOf(key) / 4
	}
	if !t.tryReserve(grow) {
		return 0, false, nil
	}
	charged, err = ms.SetMeta(key, meta, grow)
	t.unreserve(grow)
	switch {
	case errors.Is(err, tier.ErrNoSpace), errors.Is(err, tier.ErrNotFound):
		return 0, false, nil
	case err != nil:
		return 0, true, fmt.Errorf("tiermem: changing the header of %q in the %s tier: %w", key, t.level, storeError(err))
	}
	return charged, true, nil
}

// headerSlack, with a quarter of the entry's size in a memory tier, is the
// room setMetaIn reserves beyond the header's growth, for the store's
// rounding of an entry that moves (the hot tier's padding, the warm tier's
// slab size classes and pages): a store that needs more says ErrNoSpace,
// and the general path makes room.
const headerSlack = 64

// headerTierLocked returns the tier that holds key first, up to the cold
// tier, and key's meta there; nil when none of them holds it. The key's
// lock is held.
func (m *Manager) headerTierLocked(key string) (*tierState, []byte) {
	for _, t := range m.tiers[:Glacier] {
		if meta, err := t.store.Meta(key); err == nil {
			return t, meta
		}
	}
	return nil, nil
}
