package tiermem

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tiermem/tiermem/internal/header"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/heap"
)

var policyNames = [...]string{PolicyAuto: "auto", PolicyAdaptive: "adaptive", PolicyLRU: "lru", PolicyLFU: "lfu",
	PolicyFIFO: "fifo", PolicyClock: "clock", PolicyS3FIFO: "s3fifo"}

// String returns the policy's name: "auto", "adaptive", "lru", "lfu",
// "fifo", "clock" or "s3fifo".
func (p Policy) String() string {
	if p >= 0 && int(p) < len(policyNames) {
		return policyNames[p]
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// ParsePolicy returns the Policy named s ("auto", "adaptive", "lru",
// "lfu", "fifo", "clock" or "s3fifo", case-insensitive), or an error
// wrapping ErrOptions.
func ParsePolicy(s string) (Policy, error) {
	if i := slices.Index(policyNames[:], strings.ToLower(s)); i >= 0 {
		return Policy(i), nil
	}
	return 0, fmt.Errorf("%w: policy %q (want auto, adaptive, lru, lfu, fifo, clock or s3fifo)", ErrOptions, s)
}

// TierPolicy returns the Policy tier t chooses its victims by: the one its
// TierOptions named (PolicyAuto unless they named one), or the last one
// SetTierPolicy set. Errors: ErrUnknownTier for a tier this Manager has
// not.
func (m *Manager) TierPolicy(t Tier) (Policy, error) {
	ts, err := m.tierOf(t)
	if err != nil {
		return 0, err
	}
	return Policy(ts.policy.Load()), nil
}

// SetTierPolicy changes the policy tier t chooses its victims by, while
// the Manager serves. The new policy starts with every unpinned entry the
// tier holds (the built-in hot tier's from the least recently read to the
// most, the others' keeping the last read the old policy knew); what the
// old one learned besides (read frequencies, its queues' split) is not
// carried over. It costs a pass over the tier's entries; on the built-in
// hot tier the pass holds the tier's locks, so its reads and writes wait
// for it (80–86 ms for 50,000 entries on a 2-vCPU machine).
//
// Some changes need the tier's store to be opened anew and are refused
// with ErrOptions: to or from PolicyClock on the built-in hot tier (CLOCK
// keeps reference words in a store of its own kind), PolicyClock on the
// cold tier (its store keeps no reference bits) or on a store that keeps
// none, and any policy but PolicyAuto on the last tier, which never
// chooses victims. Other errors: ErrOptions for an unknown Policy,
// ErrUnknownTier, ErrClosed. It runs as an operation and waits for the
// operations in flight, so it must not be called from a callback the
// Manager runs.
func (m *Manager) SetTierPolicy(t Tier, p Policy) error {
	if p < PolicyAuto || p > PolicyS3FIFO {
		return fmt.Errorf("%w: policy %d is unknown", ErrOptions, int(p))
	}
	ts, err := m.tierOf(t)
	if err != nil {
		return err
	}
	tok, leave, err := m.enterSetting()
	if err != nil {
		return err
	}
	defer leave()
	old := Policy(ts.policy.Load())
	if p == old {
		return nil
	}
	if err := m.checkPolicyChange(ts, old, p); err != nil {
		return err
	}
	if hs, ok := ts.toucher.(*heap.Store); ok { // the built-in hot tier: its policy is in its entries
		if err := hs.SetPolicy(policyKind(p), max(ts.capacity(), 1)); err != nil {
			return fmt.Errorf("tiermem: setting the hot tier's policy: %w", storeError(err))
		}
		ts.policy.Store(int32(p))
		return nil
	}
	v, err := m.newVictims(ts, p)
	if err != nil {
		return err
	}
	if cv, ok := v.(*clockVictims); ok {
		cv.swept = m.now() // the old CLOCK's last sweep cleared the bits: idleness counts from now
	}
	oldV := ts.victims.get()
	ts.victims.set(oldV, v)   // what changes entries tells v too,
	m.gate.QuiesceInside(tok) // once the operations that did not know of v have left
	if err := m.fillVictims(ts, v, oldV); err != nil {
		ts.victims.set(oldV, nil)
		return err
	}
	ts.victims.set(v, nil)
	ts.policy.Store(int32(p))
	return nil
}

// checkPolicyChange refuses the changes of SetTierPolicy that need the
// tier's store opened anew.
func (m *Manager) checkPolicyChange(t *tierState, old, p Policy) error {
	_, heapPolicy := t.toucher.(*heap.Store)
	switch {
	case t.victims == nil:
		return fmt.Errorf("%w: the %v tier is the last, which never chooses victims: its policy stays %v", ErrOptions, t.level, old)
	case t.level == Cold && p == PolicyClock:
		return fmt.Errorf("%w: PolicyClock on the cold tier: its store keeps no reference bits", ErrOptions)
	case t.level == Hot && m.opts.Hot.Store == nil && (p == PolicyClock) != (old == PolicyClock):
		return fmt.Errorf("%w: the hot tier from %v to %v: CLOCK keeps reference words in a store of its own kind, "+
			"so the change needs the Manager opened again with Hot.Policy %v", ErrOptions, old, p, p)
	case heapPolicy:
		return nil
	}
	if _, ok := t.store.(tier.VictimChooser); p == PolicyClock && !ok {
		return fmt.Errorf("%w: PolicyClock needs a store that keeps reference bits (a tier.VictimChooser), not the %v tier's %T", ErrOptions, t.level, t.store)
	}
	return nil
}

// fillVictims tells v of every unpinned entry t holds that it does not
// know of (when v keeps keys: a policyVictims), each under its key's lock,
// so that it sees the entry as the last change told v of it; an entry the
// old victims knew keeps its last read.
func (m *Manager) fillVictims(t *tierState, v, old victims) error {
	pv, ok := v.(*policyVictims)
	if !ok {
		return nil // the store's own CLOCK bits or index: nothing to tell
	}
	oldPV, _ := old.(*policyVictims)
	keys, err := m.keysOf(t)
	if err != nil {
		return fmt.Errorf("tiermem: listing the %s tier for its new policy: %w", t.level, storeError(err))
	}
	for _, key := range keys {
		lock := m.locks.Of(key)
		lock.Lock()
		if meta, err := t.store.Meta(key); err == nil && !header.IsPinned(meta) {
			at, known := time.Time{}, false
			if oldPV != nil {
				at, known = oldPV.lastReadOf(key)
			}
			if !known {
				at = m.now()
			}
			pv.include(key, t.sizeOf(key), at)
		}
		lock.Unlock()
	}
	return nil
}
