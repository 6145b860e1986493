package tiermem

import "fmt"

// ReadCount returns how many times key was read recently, from 0 to 15:
// the estimate that promotion compares with PromoteHits (the reads of the
// current HitWindow, plus half those of the window before, and so on). It
// may be above the true count when other keys share the estimate's
// counters. Counts belong to names, not values, and age away as the
// windows pass: a Rename gives the new name the old one's count, and a
// value stored under a name that was read (before a Delete or Rename)
// starts from that name's count, as the estimate cannot take counts back
// from counters other keys share. Errors: ErrNotFound, ErrInvalidKey,
// ErrClosed.
func (m *Manager) ReadCount(key string) (int, error) {
	if _, err := m.Tier(key); err != nil {
		return 0, err
	}
	tok, err := m.enter()
	if err != nil {
		return 0, fmt.Errorf("reading %q's count: %w", key, err)
	}
	defer m.gate.Leave(tok)
	return m.freq.Estimate(key), nil
}
