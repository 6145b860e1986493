package tiermem

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/tiermem/tiermem/internal/gate"
	"github.com/tiermem/tiermem/tier/disk"
)

// Durability returns the Durability the Manager keeps now: the one it was
// opened with, or the last one SetDurability set. It is safe to call at any
// time, after Close too.
func (m *Manager) Durability() Durability { return Durability(m.durability.Load()) }

// ParseDurability returns the Durability named s ("none", "every-second"
// or "always", case-insensitive), or an error wrapping ErrOptions.
func ParseDurability(s string) (Durability, error) {
	if i := slices.Index(durabilityNames[:], strings.ToLower(s)); i >= 0 {
		return Durability(i), nil
	}
	return 0, fmt.Errorf("%w: durability %q (want none, every-second or always)", ErrOptions, s)
}

// durable reports whether Stores write through to the cold log.
func (m *Manager) durable() bool { return m.Durability() != None }

// syncSetter is a cold store whose sync mode changes while it serves (the
// built-in tier/disk store).
type syncSetter interface {
	SetSync(disk.SyncMode) error
}

// SetDurability changes when a Store is safe from a crash, while the
// Manager serves; operations go on meanwhile, and every Store that begins
// after SetDurability returns keeps d.
//
// From None to EverySecond or Always it first writes every value the hot
// and warm tiers hold to the cold log, where the cold budget must hold them
// (it makes room as a Store does, demoting to glacier), then syncs the log
// and glacier: when it returns, every value stored before it is on disk.
// If that fails (a full disk, a cold budget that cannot hold the memory
// tiers' values) the Manager keeps None, with every value as it was, and
// SetDurability returns the error; it takes back the log's copies of the
// values memory holds (Copy's among them). Between EverySecond and Always
// it changes how the log syncs (to Always: syncing what was written
// before). To None, Stores stop writing through; the log keeps the copies
// it has, as Copy's.
//
// It runs as an operation: Close waits for it, and it waits for the
// operations in flight, so it must not be called from a callback the
// Manager runs (View's fn, Update's, a Snapshot's Progress). Errors:
// ErrOptions for an unknown Durability, or when the options handed over
// the cold store (which syncs as it was opened with); ErrClosed.
func (m *Manager) SetDurability(d Durability) error {
	if d < None || d > Always {
		return fmt.Errorf("%w: durability %d is unknown", ErrOptions, int(d))
	}
	tok, leave, err := m.enterSetting()
	if err != nil {
		return err
	}
	defer leave()
	old := m.Durability()
	if d == old {
		return nil
	}
	log, ok := m.tiers[Cold].store.(syncSetter)
	if !ok || m.opts.Cold.Store != nil {
		return fmt.Errorf("%w: durability %v: the cold tier is a store the options handed over, which syncs as it was opened with (durability stays %v)", ErrOptions, d, old)
	}
	if old == None {
		return m.becomeDurable(tok, d, log)
	}
	m.setDurability(tok, d)
	if err := log.SetSync(syncMode(d)); err != nil {
		m.setDurability(tok, old)
		return fmt.Errorf("tiermem: durability stays %v: %w", old, storeError(err))
	}
	return nil
}

// enterSetting admits a change of a runtime setting (SetDurability,
// SetTierPolicy): one at a time, the mutex taken before the gate, so that
// a second caller waits outside it, where gate.QuiesceInside does not wait
// for it; then as an operation, which Close waits for. leave undoes both.
func (m *Manager) enterSetting() (tok gate.Token, leave func(), err error) {
	m.settingsMu.Lock()
	if tok, err = m.enter(); err != nil {
		m.settingsMu.Unlock()
		return 0, nil, err
	}
	return tok, func() { m.gate.Leave(tok); m.settingsMu.Unlock() }, nil
}

// setDurability stores d and returns once no other operation that read
// the old Durability is in flight; tok is the caller's.
func (m *Manager) setDurability(tok gate.Token, d Durability) {
	m.durability.Store(int32(d))
	m.gate.QuiesceInside(tok)
}

// becomeDurable goes from None to d: Stores write through, every value
// only a memory tier holds gets its copy in the log (which meanwhile syncs
// as under None, so that the copies share one sync), the log then syncs by
// d, and glacier syncs. On failure it goes back to None.
func (m *Manager) becomeDurable(tok gate.Token, d Durability, log syncSetter) error {
	m.logSweep.Store(true) // before the Quiesce: every move and Store after it keeps the log whole
	m.setDurability(tok, d)
	err := m.copyMemoryToLog()
	if err == nil {
		err = m.logInBudget()
	}
	m.logSweep.Store(false)
	if err == nil {
		if err = log.SetSync(syncMode(d)); err != nil {
			err = fmt.Errorf("syncing the cold log: %w", err)
		}
	}
	if err == nil {
		err = m.syncGlacier()
	}
	if err != nil {
		m.setDurability(tok, None)
		log.SetSync(disk.SyncNone) // cannot fail: SyncNone syncs nothing first
		m.dropLogCopies()
		return fmt.Errorf("tiermem: durability stays none: %w", storeError(err))
	}
	return nil
}

// logInBudget makes room in the cold tier if the copies of values that
// moved during the sweep (logCopyLocked, ensureLogCopyLocked) took it over
// its budget, as a Store would (demoting to glacier); ErrNoSpace when it
// cannot.
func (m *Manager) logInBudget() error {
	cold := m.tiers[Cold]
	if cold.used() <= cold.capacity() {
		return nil
	}
	if err := m.reserve(cold, 0, 0, waitStreams); err != nil {
		return fmt.Errorf("the cold tier cannot hold a copy of every memory value: %w", err)
	}
	return nil
}

// dropLogCopies takes back, under None, the log's copies of the values a
// memory tier holds: those are the newer or the same, so no key reads
// differently.
func (m *Manager) dropLogCopies() {
	cold := m.tiers[Cold]
	for _, t := range m.tiers[:Cold] {
		keys, _ := m.keysOf(t)
		for _, key := range keys {
			lock := m.locks.Of(key)
			lock.Lock()
			if t.has(key) && cold.has(key) {
				m.removeFrom(cold, key) // a failure leaves a copy: more cold bytes, nothing lost
			}
			lock.Unlock()
		}
	}
}

// copyMemoryToLog copies to the cold log every value of the hot and warm
// tiers that it has no copy of. A key that moves between them meanwhile
// gets its copy as it moves (logCopyLocked), one replaced meanwhile from
// its Store, which writes through.
func (m *Manager) copyMemoryToLog() error {
	cold := m.tiers[Cold]
	for _, t := range m.tiers[:Cold] {
		keys, err := m.keysOf(t)
		if err != nil {
			return fmt.Errorf("listing the %s tier: %w", t.level, err)
		}
		if m.sweepListed != nil {
			m.sweepListed(t.level)
		}
		for _, key := range keys {
			if cold.has(key) {
				continue
			}
			if _, err := m.move(key, t, cold, true, false, waitStreams); err != nil {
				return fmt.Errorf("copying the %s tier's values to the cold log: %w", t.level, err)
			}
		}
	}
	return nil
}

// logCopyLocked, while SetDurability gives the memory tiers' values their
// copies in the log, copies key to the log if it has just moved from one
// memory tier to the other without one, so that the sweep cannot miss it.
// The copy counts against the cold budget when the sweep ends
// (logInBudget). The key's lock is held.
func (m *Manager) logCopyLocked(key string, from, to *tierState) error {
	if !m.logSweep.Load() || from.level >= Cold || to.level >= Cold {
		return nil
	}
	return m.ensureLogCopyLocked(key, to)
}

// ensureLogCopyLocked copies key from memory tier t to the cold log unless
// the log has it. The key's lock is held.
func (m *Manager) ensureLogCopyLocked(key string, t *tierState) error {
	cold := m.tiers[Cold]
	if cold.has(key) {
		return nil
	}
	if _, err := m.copyLocked(key, t, cold, math.MaxInt64); err != nil {
		return fmt.Errorf("copying %q to the cold log as durability changes: %w", key, err)
	}
	return nil
}

// keepOldValueLocked, while SetDurability gives the memory tiers' values
// their copies in the log, copies key's present value to the log before a
// Store that writes through replaces it, if the log has none: the Store
// drops the memory copies first and, when its write to the log fails,
// leaves the key with what the log holds. The key's lock is held.
func (m *Manager) keepOldValueLocked(key string) error {
	if !m.logSweep.Load() {
		return nil
	}
	for _, t := range m.tiers[:Cold] {
		if t.has(key) {
			return m.ensureLogCopyLocked(key, t)
		}
	}
	return nil
}

// errNoLogCopy marks a demotion from memory to a durable log that found
// no copy there: SetDurability has not copied the key yet.
var errNoLogCopy = errors.New("tiermem: the cold log has no copy of the value")
