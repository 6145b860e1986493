package tiermem

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/tiermem/tiermem/internal/header"
	"github.com/tiermem/tiermem/tier"
)

// UpdateHeader is UpdateEntry for a change of key's TTL or pin alone: fn
// sees Found, Expires and Pinned, and Value nil; what it leaves in Value
// is ignored, and the key keeps its value, of any kind. An absent key
// stays absent, whatever fn returns. A key a memory
// tier holds is changed in that tier's entry: its value is neither copied
// out nor written again, so a TTL change of a large value costs no copy
// where the new header fits where the old one lay, and one inside the
// tier's store where it does not. fn may run more than once, as Update's.
// Errors: fn's, and those of UpdateEntry.
func (m *Manager) UpdateHeader(key string, fn func(e *Entry) (keep bool, err error)) error {
	if done, err := m.changeHeader(key, fn); done {
		return err
	}
	return m.modify(key, func(e *Entry) (bool, error) {
		v, found := e.Value, e.Found
		e.Value = nil
		keep, err := fn(e)
		e.Value = v
		return keep && found, err
	})
}

// changeHeader runs fn on the header of a key a memory tier holds and
// writes the result in that tier's entry. It reports done false, having
// changed nothing, where it cannot: the key is in no memory tier whose
// store sets meta, it has expired, fn deletes it, the Manager is durable
// (the cold log's copy must change too), or the tier has no room for the
// new header; the caller then takes the general path.
func (m *Manager) changeHeader(key string, fn func(e *Entry) (bool, error)) (done bool, err error) {
	tok, err := m.enterKey(key)
	if err != nil {
		return true, err
	}
	defer m.gate.Leave(tok)
	lock := m.locks.Of(key)
	lock.Lock()
	defer lock.Unlock()
	if m.durable() {
		return false, nil
	}
	t, ms, old := m.headerTierLocked(key)
	if ms == nil {
		return false, nil
	}
	env, err := decodeHeader(old)
	now := m.now()
	if err != nil || env.Expired(now) {
		return false, nil // the general path reports the error, or the key as absent
	}
	e := Entry{Found: true, Pinned: env.Pinned}
	if env.Expires != 0 {
		e.Expires = time.Unix(0, env.Expires)
	}
	keep, err := fn(&e)
	switch {
	case err != nil:
		return true, err
	case !keep, !e.Expires.IsZero() && !e.Expires.After(now):
		return false, nil // a deletion
	}
	env.Pinned, env.Expires = e.Pinned, expiresNano(e.Expires)
	return m.setHeaderLocked(key, headerChange{t: t, ms: ms, old: old, env: env})
}

// headerChange is a new header for a key's entry in a memory tier.
type headerChange struct {
	t   *tierState
	ms  tier.MetaSetter // t's store
	old []byte          // the entry's meta now
	env header.Header   // the new header
}

// setHeaderLocked writes c's header in its tier's entry, after dropping the
// key's copies in other tiers (as a Store drops them). It reports done
// false when the tier has no room for it. The key's lock is held.
func (m *Manager) setHeaderLocked(key string, c headerChange) (done bool, err error) {
	meta := c.env.Encode()
	if bytes.Equal(meta, c.old) {
		return true, nil // every copy holds this header already
	}
	m.beforeChange(key)
	if err := m.dropExceptLocked(key, c.t, false); err != nil {
		return true, fmt.Errorf("tiermem: changing the header of %q: %w", key, err)
	}
	grow := max(int64(len(meta)-len(c.old)), 0) + headerSlack + c.t.sizeOf(key)/4
	if !c.t.tryReserve(grow) {
		return false, nil
	}
	charged, err := c.ms.SetMeta(key, meta, grow)
	c.t.unreserve(grow)
	switch {
	case errors.Is(err, tier.ErrNoSpace):
		return false, nil
	case err != nil:
		return true, fmt.Errorf("tiermem: changing the header of %q in the %s tier: %w", key, c.t.level, storeError(err))
	}
	if c.t.victims != nil {
		c.t.victims.added(key, charged, c.env.Pinned)
	}
	m.ttl.set(key, c.env.Expires)
	return true, nil
}

// headerSlack, with a quarter of the entry's size, is the room
// setHeaderLocked reserves beyond the header's growth, for the store's
// rounding of an entry that moves (the hot tier's padding, the warm tier's
// slab size classes and pages): a store that needs more says ErrNoSpace,
// and the general path makes room.
const headerSlack = 64

// headerTierLocked returns the memory tier that holds key first, its
// store's MetaSetter (nil when it has none, or when no memory tier holds
// key) and key's meta there. The key's lock is held.
func (m *Manager) headerTierLocked(key string) (*tierState, tier.MetaSetter, []byte) {
	for _, t := range m.tiers[:Cold] {
		meta, err := t.store.Meta(key)
		if err != nil {
			continue
		}
		ms, _ := t.store.(tier.MetaSetter)
		return t, ms, meta
	}
	return nil, nil, nil
}
