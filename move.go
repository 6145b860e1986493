package tiermem

import (
	"fmt"
)

// Move moves key to tier t, making room there if needed; afterwards t is the
// only tier that holds it (but the cold log's copy, with a durable log).
// It moves pinned values too. Errors: ErrNotFound, ErrUnknownTier,
// ErrTooLarge, ErrNoSpace, ErrClosed.
func (m *Manager) Move(key string, t Tier) error {
	tok, err := m.enter()
	if err != nil {
		return err
	}
	defer m.gate.Leave(tok)
	to, src, err := m.endpoints(key, t)
	if err != nil {
		return err
	}
	if done, err := m.keepOnly(key, to); done || err != nil {
		return err
	}
	return m.transfer(key, src, to, false)
}

// keepOnly drops key's other copies if tier to holds it already, and
// reports whether it did. It looks under the key's lock: a move that took
// the key out of to meanwhile must not leave it in no tier at all.
func (m *Manager) keepOnly(key string, to *tierState) (bool, error) {
	lock := m.locks.Of(key)
	lock.Lock()
	defer lock.Unlock()
	if !to.has(key) {
		return false, nil
	}
	if to == m.glacier {
		// A batch demotion may have staged the copy there: durable first.
		if err := m.syncGlacier(); err != nil {
			return true, err
		}
	}
	return true, m.dropOthersLocked(key, to)
}

// Copy puts a copy of key in tier t and keeps the original where it is (as
// MemPool's copytodisk does): reads come from the fastest tier holding it, and
// the next Store, Delete or move of the key replaces or removes every copy.
func (m *Manager) Copy(key string, t Tier) error {
	tok, err := m.enter()
	if err != nil {
		return err
	}
	defer m.gate.Leave(tok)
	to, src, err := m.endpoints(key, t)
	if err != nil || src == to || to.has(key) {
		return err
	}
	return m.transfer(key, src, to, true)
}

// endpoints returns tier t and the fastest tier that holds key.
func (m *Manager) endpoints(key string, t Tier) (to, src *tierState, err error) {
	if to, err = m.tierOf(t); err != nil {
		return nil, nil, err
	}
	cur, err := m.Tier(key)
	if err != nil {
		return nil, nil, err
	}
	return to, m.tiers[cur], nil
}

// transfer moves (or, with keep, copies) key from src to to and counts it.
func (m *Manager) transfer(key string, src, to *tierState, keep bool) error {
	for try := 0; ; try++ {
		// src is to when the key left to after Move looked and came back:
		// a copy from a store into itself would deadlock on its lock.
		if src != to {
			ok, err := m.move(key, src, to, keep, false, waitStreams)
			if err != nil {
				return err
			}
			if ok {
				if !keep {
					m.countMove(src, to)
				}
				return nil
			}
		}
		// The key left src meanwhile: deleted, or demoted to make the very
		// room it was to move into. Follow it, a few times.
		cur, err := m.Tier(key)
		if err != nil || try == transferTries {
			return fmt.Errorf("%w: %q (deleted or moved meanwhile)", ErrNotFound, key)
		}
		if src = m.tiers[cur]; src == to {
			return nil
		}
	}
}

// transferTries bounds how often a Move or Copy follows a key that moved
// under it.
const transferTries = 3

// countMove counts an explicit move as a promotion or a demotion.
func (m *Manager) countMove(from, to *tierState) {
	if to.level < from.level {
		to.promotions.Add(1)
	} else {
		from.demotions.Add(1)
	}
}
