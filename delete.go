package tiermem

import (
	"errors"
	"fmt"

	"github.com/tiermem/tiermem/tier"
)

// Delete removes key from every tier. It returns ErrNotFound if no tier held
// it, or its TTL had run out (it is removed all the same).
func (m *Manager) Delete(key string) error { return m.DeleteIf(key, nil) }

// DeleteIf is Delete made conditional (an HTTP DELETE with If-Match):
// cond runs under the key's lock, on what the key holds then, also when it
// holds nothing, and the key is deleted only when cond returns nil; cond's
// error is returned otherwise, with the key as it was. cond must not call
// the Manager. A nil cond makes it Delete.
func (m *Manager) DeleteIf(key string, cond func(c *Current) error) error {
	tok, err := m.enterKey(key)
	if err != nil {
		return err
	}
	defer m.gate.Leave(tok)
	found, inGlacier, err := m.deleteKey(key, cond)
	if err != nil {
		return err
	}
	if !found {
		return notFound(key, "")
	}
	if m.syncsRemoval(key, inGlacier) {
		return m.syncDelete(key)
	}
	return nil
}

// syncDelete makes glacier's record of a delete durable.
func (m *Manager) syncDelete(key string) error {
	if err := m.syncGlacier(); err != nil {
		return fmt.Errorf("tiermem: deleting %q: it reads as deleted, but glacier's record of the delete is not durable yet "+
			"(the next pass retries it; a crash before then brings the glacier copy back): %w", key, err)
	}
	return nil
}

// deleteKey removes key from every tier under its lock, when cond (if not
// nil) lets it, and reports whether a tier held it with its TTL not run
// out, and whether glacier held it. Whether the TTL ran out is read from
// the key's header, not from m.ttl, which forgets a key while a pass
// deletes it.
func (m *Manager) deleteKey(key string, cond func(*Current) error) (found, inGlacier bool, err error) {
	lock := m.locks.Of(key)
	lock.Lock()
	defer lock.Unlock()
	if err := m.checkLocked(key, cond); err != nil {
		return false, false, err
	}
	live, _, err := m.presentLocked(key)
	if err != nil {
		return false, false, fmt.Errorf("tiermem: deleting %q: %w", key, err)
	}
	found, inGlacier, err = m.deleteLocked(key)
	return found && live, inGlacier, err // an expired key is removed, and was not there
}

// deleteLocked is deleteKey with the key's lock held.
func (m *Manager) deleteLocked(key string) (found, inGlacier bool, err error) {
	for i := len(m.tiers) - 1; i >= 0; i-- { // the slowest first: a failure leaves the key as it was
		removed, err := m.removeFrom(m.tiers[i], key)
		if err != nil {
			return found, inGlacier, fmt.Errorf("tiermem: deleting %q: %w", key, err)
		}
		found = found || removed
		inGlacier = inGlacier || removed && m.tiers[i] == m.glacier
	}
	m.ttl.set(key, 0)
	return found, inGlacier, nil
}

// Clear deletes every key from every tier: every key stored before it
// began, even one that moves between tiers meanwhile.
func (m *Manager) Clear() error {
	tok, err := m.enter()
	if err != nil {
		return err
	}
	defer m.gate.Leave(tok)
	keys := make(map[string]struct{})
	for _, t := range m.listingOrder() { // a key that moves during the listing is seen
		if err := m.eachKeyOf(t, func(key string) { keys[key] = struct{}{} }); err != nil {
			return fmt.Errorf("tiermem: listing the %s tier: %w", t.level, err)
		}
	}
	for key := range keys {
		if _, _, err := m.deleteKey(key, nil); err != nil {
			return err
		}
	}
	m.promote.take()
	m.freq.Reset()
	if m.durable() {
		if err := m.syncGlacier(); err != nil { // once for every key, not once each
			return fmt.Errorf("tiermem: Clear: every key reads as deleted, but glacier's record of it is not durable yet: %w", err)
		}
	}
	return nil
}

// keysOf lists the keys of tier t.
func (m *Manager) keysOf(t *tierState) ([]string, error) {
	var keys []string
	err := m.eachKeyOf(t, func(key string) { keys = append(keys, key) })
	return keys, err
}

// eachKeyOf calls fn with each key of tier t.
func (m *Manager) eachKeyOf(t *tierState, fn func(key string)) error {
	err := t.store.Scan(func(key string, _ []byte, _ int64) error {
		fn(key)
		return nil
	})
	if errors.Is(err, tier.ErrClosed) {
		err = ErrClosed
	}
	return err
}
