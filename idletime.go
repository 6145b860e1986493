package tiermem

import (
	"errors"
	"fmt"
	"time"

	"github.com/tiermem/tiermem/tier/heap"
)

// IdleTime returns how long ago key was last read or stored, where its
// tier keeps that time: the built-in hot tier under any policy but
// PolicyClock, and a tier whose policy is a cache policy (PolicyLRU,
// PolicyLFU, ... set in its TierOptions or by SetTierPolicy) for a key that
// is not pinned. A read counts as in the policy: reads through Retrieve,
// View and the like, not Tier or KeyInfo. A Rename keeps the time in a
// tier with a cache policy; the built-in hot tier counts it as a store.
// Errors: ErrNoIdleTime where the tier keeps no such time (CLOCK's
// reference bits, the cold tier's write age under PolicyAuto, the last
// tier), ErrNotFound, ErrInvalidKey, ErrClosed.
func (m *Manager) IdleTime(key string) (time.Duration, error) {
	tok, err := m.enterKey(key)
	if err != nil {
		return 0, err
	}
	defer m.gate.Leave(tok)
	lock := m.locks.Of(key)
	lock.RLock()
	defer lock.RUnlock()
	t, err := m.holder(key)
	if errors.Is(err, errNoHolder) {
		return 0, fmt.Errorf("%w: %q", ErrNotFound, key)
	}
	if err != nil {
		return 0, err
	}
	at, ok := m.lastUse(t, key)
	if !ok {
		return 0, fmt.Errorf("%w: %q is in the %s tier, whose policy (%v) keeps no time of a key's last use (or not for a pinned key); ReadCount gives its recent reads",
			ErrNoIdleTime, key, t.level, Policy(t.policy.Load()))
	}
	return max(m.now().Sub(at), 0), nil
}

// setLastUse sets when key was last used in t, where t's policy keeps
// that: a renamed value keeps its idle time.
func (m *Manager) setLastUse(t *tierState, key string, at time.Time) {
	if hs, ok := t.toucher.(*heap.Store); ok {
		hs.SetLastUse(key, at)
		return
	}
	if t.victims == nil {
		return
	}
	if pv, ok := t.victims.get().(*policyVictims); ok {
		pv.setLastRead(key, at)
	}
}

// lastUse returns when t's policy saw key last used, if it keeps that.
func (m *Manager) lastUse(t *tierState, key string) (time.Time, bool) {
	if hs, ok := t.toucher.(*heap.Store); ok {
		return hs.LastUse(key)
	}
	if t.victims == nil {
		return time.Time{}, false
	}
	if pv, ok := t.victims.get().(*policyVictims); ok {
		return pv.lastReadOf(key)
	}
	return time.Time{}, false
}
