package tiermem

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

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
// (it makes room as a Store does, demoting to glacier), and syncs the log:
// when it returns, every value stored before it is on disk. If that fails
// (a full disk, a cold budget that cannot hold the memory tiers' values)
// the Manager keeps None and SetDurability returns the error; the copies
// it had written stay in the cold log, as Copy's do, and cost cold space
// until their keys change. Between EverySecond and Always it changes how
// the log syncs (to Always: syncing what was written before). To None,
// Stores stop writing through; the log keeps the copies it has.
//
// Errors: ErrOptions for an unknown Durability, or when the options handed
// over the cold store (which syncs as it was opened with); ErrClosed after
// Close. It waits for a Close in progress, and Close waits for it.
func (m *Manager) SetDurability(d Durability) error {
	if d < None || d > Always {
		return fmt.Errorf("%w: durability %d is unknown", ErrOptions, int(d))
	}
	m.closeMu.Lock()
	defer m.closeMu.Unlock()
	if m.closed {
		return ErrClosed
	}
	old := m.Durability()
	if d == old {
		return nil
	}
	log, ok := m.tiers[Cold].store.(syncSetter)
	if !ok || m.opts.Cold.Store != nil {
		return fmt.Errorf("%w: durability %v: the cold tier is a store the options handed over, which syncs as it was opened with (durability stays %v)", ErrOptions, d, old)
	}
	if old == None {
		return m.becomeDurable(d, log)
	}
	m.setDurability(d)
	if err := log.SetSync(syncMode(d)); err != nil {
		m.setDurability(old)
		return fmt.Errorf("tiermem: durability stays %v: %w", old, storeError(err))
	}
	return nil
}

// setDurability stores d and returns once no operation that read the old
// Durability is in flight.
func (m *Manager) setDurability(d Durability) {
	m.durability.Store(int32(d))
	m.gate.Quiesce()
}

// becomeDurable goes from None to d: the log syncs by d, Stores write
// through, then every value only a memory tier holds gets its copy in the
// log, which is synced. On failure it goes back to None.
func (m *Manager) becomeDurable(d Durability, log syncSetter) error {
	if err := log.SetSync(syncMode(d)); err != nil {
		return fmt.Errorf("tiermem: durability stays none: %w", storeError(err))
	}
	m.logSweep.Store(true) // before the Quiesce: every move after it keeps the log whole (logCopyLocked)
	m.setDurability(d)
	err := m.copyMemoryToLog()
	m.logSweep.Store(false)
	if err == nil {
		if err = m.tiers[Cold].persistent.Sync(); err != nil {
			err = fmt.Errorf("syncing the cold log: %w", err)
		}
	}
	if err != nil {
		m.setDurability(None)
		log.SetSync(disk.SyncNone) // cannot fail: SyncNone syncs nothing first
		return fmt.Errorf("tiermem: durability stays none: %w", storeError(err))
	}
	return nil
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
			if _, err := m.move(key, t, cold, true); err != nil {
				return fmt.Errorf("copying the %s tier's values to the cold log: %w", t.level, err)
			}
		}
	}
	return nil
}

// logCopyLocked, while SetDurability gives the memory tiers' values their
// copies in the log, copies key to the log if it has just moved from one
// memory tier to the other without one, so that the sweep cannot miss it.
// The key's lock is held.
func (m *Manager) logCopyLocked(key string, from, to *tierState) error {
	if !m.logSweep.Load() || from.level >= Cold || to.level >= Cold {
		return nil
	}
	cold := m.tiers[Cold]
	if cold.has(key) {
		return nil
	}
	_, err := m.copyLocked(key, to, cold, math.MaxInt64)
	return err
}

// errNoLogCopy marks a demotion from memory to a durable log that found
// no copy there: SetDurability has not copied the key yet.
var errNoLogCopy = errors.New("tiermem: the cold log has no copy of the value")
