package tiermem

import (
	"errors"
	"fmt"

	"github.com/tiermem/tiermem/tier"
)

// Delete removes key from every tier. It returns ErrNotFound if no tier held it.
func (m *Manager) Delete(key string) error {
	tok, err := m.enterKey(key)
	if err != nil {
		return err
	}
	defer m.gate.Leave(tok)
	lock := m.locks.Of(key)
	lock.Lock()
	defer lock.Unlock()
	found, inGlacier := false, false
	for i := len(m.tiers) - 1; i >= 0; i-- { // the slowest first: a failure leaves the key as it was
		removed, err := m.removeFrom(m.tiers[i], key)
		if err != nil {
			return fmt.Errorf("tiermem: deleting %q: %w", key, err)
		}
		found = found || removed
		inGlacier = inGlacier || removed && m.tiers[i] == m.glacier
	}
	m.ttl.set(key, 0)
	if !found {
		return fmt.Errorf("%w: %q", ErrNotFound, key)
	}
	if inGlacier && m.opts.Durability != None {
		if err := m.syncGlacier(); err != nil {
			return fmt.Errorf("tiermem: deleting %q: it reads as deleted, but glacier's record of the delete is not durable yet "+
				"(the next pass retries it; a crash before then brings the glacier copy back): %w", key, err)
		}
	}
	return nil
}

// Clear deletes every key from every tier.
func (m *Manager) Clear() error {
	tok, err := m.enter()
	if err != nil {
		return err
	}
	defer m.gate.Leave(tok)
	for _, t := range m.tiers {
		keys, err := m.keysOf(t)
		if err != nil {
			return fmt.Errorf("tiermem: listing the %s tier: %w", t.level, err)
		}
		for _, key := range keys {
			if err := m.Delete(key); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
	}
	m.promote.take()
	m.freq.Reset()
	return nil
}

// keysOf lists the keys of tier t.
func (m *Manager) keysOf(t *tierState) ([]string, error) {
	var keys []string
	err := t.store.Scan(func(key string, _ []byte, _ int64) error {
		keys = append(keys, key)
		return nil
	})
	if errors.Is(err, tier.ErrClosed) {
		err = ErrClosed
	}
	return keys, err
}
