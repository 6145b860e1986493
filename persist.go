package tiermem

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/tiermem/tiermem/internal/header"
	"github.com/tiermem/tiermem/tier"
)

// With Durability None the memory tiers' values are written to the cold
// tier at Close, so that the next Open finds them. Close must be quick and
// light, since a service that is stopping has a deadline (a SIGKILL after
// a grace period loses everything still in memory) and may have no memory
// to spare: the values are written as a scan of each memory store finds
// them (tier.ValueScanner), with no list of keys and no second read of
// each value (the cold tier's put says whether it held the key before, for
// the copies a failed Close must keep), and the GC memory limit follows
// the cold index as it grows. A value found corrupt in memory does not
// stop Close: another tier's copy of it is kept, and without one it is
// written as header.Damaged, to stay ErrCorrupt after the next Open
// (persistDamaged).

// persisted is what persistMemory did to the cold tier, for unpersist.
type persisted struct {
	written int                 // values written
	had     map[string]struct{} // keys the cold tier held before they were written (a key two memory tiers hold counts: its second copy finds the first)
	hotUsed int64               // the hot tier's bytes, which Close does not change: for the memory limit
	// reached counts, for each memory tier, the entries of its scan (or of
	// listed) that were written or found gone, in order: a second scan of
	// the unchanged store finds them first.
	reached [Cold]int
	listed  [Cold][]string // the keys of a tier that has no ValueScanner
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
// budget. It stops at the first failure. The cold index makes room for
// the keys first where it can (tier.Reserver: 13% of the time of 5M keys
// went to growing it key by key).
func (m *Manager) persistMemory() (*persisted, error) {
	p := &persisted{had: make(map[string]struct{}), hotUsed: m.tiers[Hot].store.Used()}
	if m.durable() {
		return p, nil
	}
	if r, ok := m.tiers[Cold].store.(tier.Reserver); ok {
		n := int64(0)
		for _, t := range m.tiers[:Cold] {
			n += t.store.Len()
		}
		r.Reserve(int(min(n, math.MaxInt32)))
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
	write := func(key string, value, meta []byte, bad error) error {
		if bad != nil {
			return m.persistDamaged(t, key, meta, p)
		}
		if err := m.persistValue(t, key, value, meta, p); err != nil {
			return err
		}
		p.reached[t.level]++
		return nil
	}
	if vs, ok := t.store.(tier.ValueScanner); ok {
		return vs.ScanValues(write)
	}
	keys, err := m.keysOf(t)
	if err != nil {
		return err
	}
	p.listed[t.level] = keys
	for _, key := range keys {
		var werr error
		err := t.store.ViewMeta(key, func(value, meta []byte) error { werr = write(key, value, meta, nil); return werr })
		switch {
		case werr != nil:
			return werr
		case errors.Is(err, tier.ErrCorrupt):
			err = write(key, nil, nil, err)
		}
		if err != nil && !errors.Is(err, tier.ErrNotFound) {
			return err
		}
		if err != nil {
			p.reached[t.level]++ // gone: counted, so that reached stays an index into listed
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
	charged, replaced, err := putReplacing(cold.store, key, value, header)
	if err != nil {
		return fmt.Errorf("copying %q from the %s tier to the cold tier: %w", key, from.level, err)
	}
	if replaced && !m.inTierAbove(key, from) { // a copy (Copy) cold held before: unpersist keeps it
		p.had[strings.Clone(key)] = struct{}{}
	}
	if cold.victims != nil {
		cold.victims.added(strings.Clone(key), charged, pinned)
	}
	if p.written++; p.written%4096 == 0 {
		m.memLimit = m.memLimit.follow(p.hotUsed) // the cold index grows with every key
	}
	return nil
}

// persistDamaged is persistTier's part for a value of t that fails its
// check (bad in ScanValues). Another tier's copy (Copy makes them, and a
// Store drops them, so every copy holds the same value) is good: a faster
// memory tier's was written already, a cold or glacier one stays for the
// next Open to find. With none, header.Damaged is written, so that the key
// stays ErrCorrupt instead of vanishing without a word. It keeps no TTL: an
// expired value is let go (it reads as absent either way), and one that
// has time left stays ErrCorrupt until it is deleted or replaced.
func (m *Manager) persistDamaged(t *tierState, key string, meta []byte, p *persisted) error {
	switch {
	case m.inTierAbove(key, t):
	case m.tiers[Cold].has(key):
		p.had[strings.Clone(key)] = struct{}{} // unpersist must keep it
	case len(m.tiers) > int(Glacier) && m.tiers[Glacier].has(key):
	case m.expiredMeta(meta):
	default:
		if err := m.persistValue(t, key, nil, header.Damaged(), p); err != nil {
			return err
		}
	}
	p.reached[t.level]++
	return nil
}

// expiredMeta reports whether meta is a header whose TTL has run out.
func (m *Manager) expiredMeta(meta []byte) bool {
	env, err := decodeHeader(meta)
	return err == nil && env.Expired(m.now())
}

// putReplacing puts key in s and reports whether s held it before.
func putReplacing(s tier.Store, key string, value, meta []byte) (charged int64, replaced bool, err error) {
	if r, ok := s.(tier.Replacer); ok {
		return r.PutReplacing(key, value, meta)
	}
	_, err = s.Meta(key)
	replaced = err == nil
	charged, err = s.Put(key, value, meta)
	return charged, replaced, err
}

// unpersist takes back from the cold tier the copies a failed Close wrote
// there, so that the Manager that stays open keeps its cold budget: the
// values are still where they were. It removes from cold the keys
// persistMemory wrote that cold did not hold before; a copy cold held and
// persistMemory had not reached stays.
func (m *Manager) unpersist(p *persisted) {
	if p == nil || p.written == 0 {
		return
	}
	cold := m.tiers[Cold]
	for _, t := range m.tiers[:Cold] {
		for _, key := range m.reachedKeys(t, p) {
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

// reachedKeys returns the keys of t that persistTier reached: the first
// p.reached of a second scan, in the order a ValueScanner promises for a
// store nothing changed (the Manager's gate is closed), or of its list.
func (m *Manager) reachedKeys(t *tierState, p *persisted) []string {
	n := p.reached[t.level]
	vs, ok := t.store.(tier.ValueScanner)
	if !ok || n == 0 {
		return p.listed[t.level][:n]
	}
	keys := make([]string, 0, n)
	enough := errors.New("enough")
	_ = vs.ScanValues(func(key string, _, _ []byte, _ error) error {
		if len(keys) == n {
			return enough
		}
		keys = append(keys, strings.Clone(key))
		return nil
	})
	return keys
}
