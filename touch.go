package tiermem

import (
	"errors"
	"fmt"
)

// Touch records a use of key, as a read of its value would, without
// reading the value: its tier's policy sees it (the last use IdleTime
// reports, the hits that keep a key from being a victim), and it counts in
// the key's ReadCount and toward its promotion, as Redis's TOUCH updates
// a key's access time. Analytics does not count it: it counts reads of
// values. Errors: ErrNotFound (also for a key whose TTL ran out),
// ErrInvalidKey, ErrClosed.
func (m *Manager) Touch(key string) error {
	tok, err := m.enterKey(key)
	if err != nil {
		return err
	}
	defer m.gate.Leave(tok)
	_, err = m.recordUse(key)
	return err
}

// recordUse records a use of key in the tier that holds it now, as a
// counted read records it (readAppend's accessed, and the heap store's own
// record of the read that ViewMetaTouch makes), and returns that tier.
func (m *Manager) recordUse(key string) (*tierState, error) {
	lock := m.locks.Of(key)
	lock.RLock()
	defer lock.RUnlock()
	t, err := m.holder(key)
	if errors.Is(err, errNoHolder) {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, key)
	}
	if err != nil {
		return nil, err
	}
	if h, ok := t.toucher.(interface{ Touch(key string) }); ok {
		h.Touch(key)
	}
	m.accessed(t, key)
	return t, nil
}

// noteRead records, after a call that handed key's value to its caller
// outside a read (UpdateHeaderView: a Redis GETEX with a new TTL), the
// read that it was: a use, as a read records it, and a hit in Analytics.
// A key gone meanwhile (the call's change deleted it) records nothing.
func (m *Manager) noteRead(key string) {
	tok, err := m.enterKey(key)
	if err != nil {
		return
	}
	defer m.gate.Leave(tok)
	t, err := m.recordUse(key)
	if c := m.analytics.Load(); c != nil && err == nil {
		c.countRead(tok, t, nil)
	}
}
