package tiermem

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tiermem/tiermem/tier"
)

// With Durability None the memory tiers' values are written to the cold
// tier at Close, so that the next Open finds them. Close must be quick and
// light, since a service that is stopping has a deadline (a SIGKILL after
// a grace period loses everything still in memory) and may have no memory
// to spare: the values are written as a scan of each memory store finds
// them (tier.ValueScanner), with no list of keys and no second read of
// each value (a pass over the keys first looks each up in the cold index,
// for the copies a failed Close must keep), and the GC memory limit
// follows the cold index as it grows.

// persisted is what persistMemory did to the cold tier, for unpersist.
type persisted struct {
	written int                 // values written
	had     map[string]struct{} // keys of the memory tiers the cold tier held before
	hotUsed int64               // the hot tier's bytes, which Close does not change: for the memory limit
}

// persist makes every value durable in the cold tier: it writes the memory
// tiers there (with Durability None), then syncs the cold log. Nothing is
// removed from memory, so a failed persist can be retried.
func (m *Manager) persist() error {
	p, err := m.persistMemory()
	if err == nil {
		if err = m.tiers[Cold].persistent.Sync(); err != nil {
			err = fmt.Errorf("syncing the cold tier: %w", err)
		}
	}
	if err == nil {
		err = m.syncGlacier()
	}
	if err != nil && !errors.Is(err, tier.ErrSyncFailed) { // after which Close closes: keep the copies
		m.unpersist(p)
	}
	return err
}

// persistMemory writes every value of the memory tiers to the cold tier at
// Close, with Durability None only, since otherwise the cold log holds them
// already. It ignores the cold budget: data is never dropped to keep a
// budget. It stops at the first failure.
func (m *Manager) persistMemory() (*persisted, error) {
	p := &persisted{had: make(map[string]struct{}), hotUsed: m.tiers[Hot].store.Used()}
	if m.durable() {
		return p, nil
	}
	if err := m.coldCopies(p.had); err != nil {
		return p, fmt.Errorf("tiermem: listing the memory tiers' keys at Close: %w", storeError(err))
	}
	for _, t := range m.tiers[:Cold] {
		if err := m.persistTier(t, p); err != nil {
			return p, fmt.Errorf("tiermem: writing memory tiers to disk at Close: %w", storeError(err))
		}
	}
	return p, nil
}

// persistTier writes t's values to the cold tier: in one scan where the
// store hands out values, and otherwise key by key from a list of its keys.
func (m *Manager) persistTier(t *tierState, p *persisted) error {
	write := func(key string, value, meta []byte) error {
		return m.persistValue(t, key, value, meta, p)
	}
	if vs, ok := t.store.(tier.ValueScanner); ok {
		return vs.ScanValues(write)
	}
	keys, err := m.keysOf(t)
	if err != nil {
		return err
	}
	for _, key := range keys {
		err := t.store.ViewMeta(key, func(value, meta []byte) error { return write(key, value, meta) })
		if err != nil && !errors.Is(err, tier.ErrNotFound) {
			return err
		}
	}
	return nil
}

// persistValue writes key's value, found in the memory tier from, to the
// cold tier. key, value and meta are valid only during the call. The
// Manager's gate is closed, so no operation changes the key meanwhile.
func (m *Manager) persistValue(from *tierState, key string, value, meta []byte, p *persisted) error {
	// A header that does not decode is written as it is: the value stays
	// ErrCorrupt after the next Open, neither lost nor altered, and does not
	// keep Close failing (no retry could make it decode).
	header, pinned := meta, false
	if env, err := decodeHeader(meta); err == nil {
		header, pinned = env.Encode(), env.Pinned
	}
	cold := m.tiers[Cold]
	m.beforeChange(key)
	charged, err := cold.store.Put(key, value, header)
	if err != nil {
		return fmt.Errorf("copying %q from the %s tier to the cold tier: %w", key, from.level, err)
	}
	if cold.victims != nil {
		cold.victims.added(strings.Clone(key), charged, pinned)
	}
	if p.written++; p.written%4096 == 0 {
		m.memLimit = m.memLimit.follow(p.hotUsed) // the cold index grows with every key
	}
	return nil
}

// coldCopies adds to had the keys of the memory tiers that the cold tier
// holds too (a copy TIER.COPY made): few, since a Store drops a key's other
// copies.
func (m *Manager) coldCopies(had map[string]struct{}) error {
	cold := m.tiers[Cold]
	for _, t := range m.tiers[:Cold] {
		err := m.scanKeys(t, func(key string) {
			if cold.sizeOf(key) > 0 {
				had[strings.Clone(key)] = struct{}{}
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// scanKeys calls fn with every key of t, valid only during fn, allocating
// nothing per key where the store can (tier.KeyScanner). fn must not call
// t's store.
func (m *Manager) scanKeys(t *tierState, fn func(key string)) error {
	if ks, ok := t.store.(tier.KeyScanner); ok {
		return ks.ScanKeys(func(key string) error { fn(key); return nil })
	}
	return t.store.Scan(func(key string, _ []byte, _ int64) error { fn(key); return nil })
}

// unpersist takes back from the cold tier the copies a failed Close wrote
// there, so that the Manager that stays open keeps its cold budget: the
// values are still where they were. It removes from cold every key of the
// memory tiers that cold did not hold before (one persistMemory had not
// reached is not there, and stays so).
func (m *Manager) unpersist(p *persisted) {
	if p == nil || p.written == 0 {
		return
	}
	cold := m.tiers[Cold]
	for _, t := range m.tiers[:Cold] {
		keys, err := m.keysOf(t)
		if err != nil {
			continue // a closed store: its keys were not written
		}
		for _, key := range keys {
			if _, ok := p.had[key]; ok {
				continue
			}
			lock := m.locks.Of(key)
			lock.Lock()
			m.removeFrom(cold, key) // a failure leaves a copy: more cold bytes, nothing lost
			lock.Unlock()
		}
	}
}
