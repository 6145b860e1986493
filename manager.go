package tiermem

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tiermem/tiermem/cache"
	"github.com/tiermem/tiermem/internal/freq"
	"github.com/tiermem/tiermem/internal/header"
	"github.com/tiermem/tiermem/internal/keylock"
	"github.com/tiermem/tiermem/internal/machine"

	"github.com/tiermem/tiermem/internal/gate"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
	"github.com/tiermem/tiermem/tier/heap"
	"github.com/tiermem/tiermem/tier/object"
	"github.com/tiermem/tiermem/tier/offheap"
)

// Manager keeps values across the tiers. It is safe for concurrent use.
type Manager struct {
	dir         string
	opts        Options
	tiers       []*tierState // hot, warm, cold and, unless disabled, glacier
	glacier     *tierState   // the glacier tier, nil when Glacier.Disabled
	glacierMu   sync.Mutex   // one batch of demotions into glacier at a time
	batchMu     sync.Mutex   // one StoreMany reserves its room at a time (storemany.go)
	glacierSync groupSync    // what syncGlacier's callers share
	memLimit    memoryLimit  // the GC memory limit Open set, to lift at Close
	locks       keylock.Locks
	freq        *freq.Sketch // reads per key in the recent window, for promotion
	ttl         *expiries
	now         func() time.Time

	promote *promotions // keys read often enough to move up, for the next pass

	migrateMu     sync.Mutex // one migration pass at a time
	passes        atomic.Int64
	failedPasses  atomic.Int64
	lastPassError atomic.Value // string
	gate          gate.Gate    // every operation passes it; Close drains it
	closeMu       sync.Mutex   // serializes Close; protects closed
	closed        bool         // Close succeeded
	stop          chan struct{}
	loopDone      chan struct{}

	snap   atomic.Pointer[snapshotRun] // the Snapshot running, nil when none (snapshot.go)
	snapMu sync.Mutex                  // one Snapshot at a time

	restores   restoreMarks // the Restores that hold the directory marked (restoremark.go)
	durability atomic.Int32 // the Durability now: opts.Durability until SetDurability (durability.go)
	logSweep   atomic.Bool  // SetDurability is giving every memory value a copy in the cold log
	// settingsMu serializes SetDurability and SetTierPolicy, whose
	// gate.QuiesceInside calls must not overlap.
	settingsMu sync.Mutex
	// sweepListed, set by tests, runs after the sweep of SetDurability has
	// listed a memory tier's keys.
	sweepListed func(Tier)

	analytics atomic.Pointer[collector] // what reads and Stores count into; nil while analytics is off (analytics.go)
	sampler   atomic.Pointer[sampler]   // the analytics sampler, nil before EnableAnalytics; changed under closeMu
}

// Open opens (creating it if needed) a Manager whose cold tier lives in dir,
// recovering every value the cold tier holds. opts may be nil. An Open that
// fails closes the stores the options handed over.
func Open(dir string, opts *Options) (*Manager, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	m, err := open(dir, o)
	if err != nil {
		closeGiven(o)
	}
	return m, err
}

// closeGiven closes the stores the options handed over, once each.
func closeGiven(o Options) {
	var closed []tier.Store
	for _, s := range o.givenStores() {
		if s != nil && !slices.ContainsFunc(closed, func(c tier.Store) bool { return sameStore(c, s) }) {
			s.Close()
			closed = append(closed, s)
		}
	}
}

// sameStore reports whether a and b are one store.
func sameStore(a, b tier.Store) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	return va.Type() == vb.Type() && va.Comparable() && va.Equal(vb)
}

func open(dir string, o Options) (*Manager, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tiermem: creating %s: %w", dir, err)
	}
	if err := o.checkUnsupported(); err != nil {
		return nil, err
	}
	unfinished, err := checkRestoreMarker(dir, o)
	if err != nil {
		return nil, err
	}
	o = o.withDefaults(machine.AvailableRAM(), machine.FreeDisk(dir))
	if err := o.check(); err != nil {
		return nil, err
	}
	m := &Manager{dir: dir, opts: o, now: o.clock, promote: newPromotions()}
	m.restores.failed = unfinished
	m.durability.Store(int32(o.Durability))
	m.freq = freq.New(&freq.Options{Window: o.HitWindow, Now: m.now})
	m.ttl = newExpiries()
	if err := m.openTiers(); err != nil {
		m.closeOpened()
		return nil, err
	}
	if err := m.recover(); err != nil {
		m.closeOpened()
		return nil, err
	}
	m.freq.Resize(m.keysHeld())
	if !o.KeepMemoryLimit {
		m.memLimit = applyMemoryLimit(m.tiers[Hot].capacity())
	}
	m.startLoop()
	return m, nil
}

// openTiers opens the stores and their victim choosers.
func (m *Manager) openTiers() error {
	if err := m.opts.checkStoresDistinct(); err != nil {
		return err
	}
	levels := []Tier{Hot, Warm, Cold, Glacier}
	if m.opts.Glacier.Disabled {
		levels = levels[:Glacier]
	}
	for _, level := range levels {
		store, err := m.openStore(level)
		if err != nil {
			return fmt.Errorf("tiermem: opening the %v tier: %w", level, storeError(err))
		}
		t := newTierState(level, store, m.tierOptions(level).Size)
		if t.persistent == nil && !m.tierOptions(level).Compress {
			// A memory store hands over its values in place: ViewSharedSmall
			// refuses a large one in the callback at no cost, without the
			// index lookup ValueLen takes. One that decompresses first must
			// be asked.
			t.valueLener = nil
		}
		m.tiers = append(m.tiers, t)
	}
	for _, t := range m.tiers[Cold:] {
		if t.persistent == nil {
			return fmt.Errorf("%w: the %v tier's Store %T does not keep its data (it is no tier.Persistent)", ErrOptions, t.level, t.store)
		}
	}
	if !m.opts.Glacier.Disabled {
		m.glacier = m.tiers[Glacier]
	}
	for _, t := range m.tiers {
		t.policy.Store(int32(m.policyOf(t.level)))
	}
	for _, t := range m.tiers[:len(m.tiers)-1] {
		v, err := m.newVictims(t, m.policyOf(t.level))
		if err != nil {
			return err
		}
		t.victims = newSwitchVictims(v)
	}
	return nil
}

// openStore returns the store the options hand over for a tier, or opens
// the built-in one: tier/heap for hot, tier/offheap for warm, tier/disk in
// <dir>/cold for cold, tier/object at Glacier.URL for glacier.
func (m *Manager) openStore(level Tier) (tier.Store, error) {
	if s := m.tierOptions(level).Store; s != nil {
		return s, nil
	}
	switch level {
	case Hot:
		return m.openHeap()
	case Warm:
		return offheap.New(&offheap.Options{Capacity: warmSpace(m.opts.Warm.Size), Compress: m.opts.Warm.Compress})
	case Glacier:
		return m.openGlacier()
	}
	return disk.Open(filepath.Join(m.dir, "cold"), &disk.Options{Sync: syncMode(m.opts.Durability), FS: m.opts.coldFS})
}

// openHeap opens the built-in hot store: with CLOCK's words for
// PolicyClock, else keeping the tier's policy in its entries (see
// heapVictims), pinned values out of it.
func (m *Manager) openHeap() (tier.Store, error) {
	if !m.heapKeepsPolicy() {
		return heap.New(), nil
	}
	s, err := heap.NewWithPolicy(heap.PolicyOptions{
		Kind:     policyKind(m.policyOf(Hot)),
		Capacity: max(m.opts.Hot.Size, 1),
		Exempt:   header.IsPinned,
		Now:      m.now,
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// heapKeepsPolicy reports whether the hot tier is the built-in store with
// the tier's policy in it: any policy but CLOCK, and no store handed over.
func (m *Manager) heapKeepsPolicy() bool {
	return m.opts.Hot.Store == nil && m.policyOf(Hot) != PolicyClock
}

// warmSpace is the address space the warm store reserves for its slab:
// twice the budget, so that values of mixed sizes, whose size classes each
// hold spans of their own, fit the budget before they fill the space (at
// budget + 1/16 the slab ran out at 60% of a fragmented budget), and at
// least 64 MiB. Address space costs nothing until it is used: the RSS
// follows what is stored.
func warmSpace(budget int64) int64 { return max(2*budget, 64<<20) }

// syncMode maps a durability to the cold log's sync mode.
func syncMode(d Durability) disk.SyncMode {
	switch d {
	case Always:
		return disk.SyncAlways
	case EverySecond:
		return disk.SyncEvery(time.Second)
	}
	return disk.SyncNone
}

// newVictims returns what chooses t's victims by policy: the store's own
// CLOCK for PolicyClock and, on the warm tier, for PolicyAuto when the
// store keeps one; on the cold tier, for PolicyAuto, write age sampled
// from the built-in store's index; a cache.Policy otherwise.
func (m *Manager) newVictims(t *tierState, policy Policy) (victims, error) {
	chooser, hasClock := t.store.(tier.VictimChooser)
	switch {
	case policy == PolicyClock && !hasClock:
		return nil, fmt.Errorf("%w: PolicyClock needs a store that keeps reference bits (a tier.VictimChooser, as the built-in hot and warm stores), not the %v tier's %T",
			ErrOptions, t.level, t.store)
	case policy == PolicyClock, policy == PolicyAuto && t.level == Warm && hasClock:
		return &clockVictims{store: chooser, now: m.now}, nil
	}
	if sampler, ok := t.store.(ageSampler); ok && policy == PolicyAuto && t.level == Cold {
		return newSampledVictims(sampler, m.now), nil
	}
	if hs, ok := t.store.(*heap.Store); ok && t.level == Hot && m.heapKeepsPolicy() {
		t.toucher = hs // counted reads record themselves in the read's own lookup
		return heapVictims{hs}, nil
	}
	return newPolicyVictims(policyKind(policy), t.capacity(), m.now)
}

// policyKind returns the cache policy a Policy names (Adaptive for
// PolicyAuto); not for PolicyClock.
func policyKind(policy Policy) cache.Kind {
	if policy != PolicyAuto {
		return policyKinds[policy]
	}
	return policyKinds[PolicyAdaptive]
}

func (m *Manager) policyOf(level Tier) Policy { return m.tierOptions(level).Policy }

// tierOptions returns the options of a tier this Manager has.
func (m *Manager) tierOptions(level Tier) TierOptions {
	return [...]TierOptions{m.opts.Hot, m.opts.Warm, m.opts.Cold, m.glacierOptions()}[level]
}

// tierOf returns the state of a tier this Manager has, or an error wrapping
// ErrUnknownTier.
func (m *Manager) tierOf(level Tier) (*tierState, error) {
	if int(level) >= len(m.tiers) {
		return nil, fmt.Errorf("%w: %v (this Manager has hot, warm and cold: Glacier.Disabled)", ErrUnknownTier, level)
	}
	return m.tiers[level], nil
}

// recover rebuilds the TTL index and the cold tier's victims (when it has
// a tier below) from what the persistent tiers recovered: glacier first,
// so that a key that a crash left in both (between a demotion's upload and
// its delete from cold) takes the TTL of its cold copy, the one reads find.
func (m *Manager) recover() error {
	if err := m.dropShadowedGlacierCopies(); err != nil {
		return err
	}
	for i := len(m.tiers) - 1; i >= int(Cold); i-- {
		t := m.tiers[i]
		err := t.store.Scan(func(key string, meta []byte, size int64) error {
			if env, err := decodeHeader(meta); err == nil && env.Expires != 0 {
				m.ttl.set(key, env.Expires)
			}
			if t.victims != nil {
				t.victims.added(key, size, skipPinned(key, meta))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("tiermem: recovering the %v tier: %w", t.level, storeError(err))
		}
	}
	return nil
}

// Close stops the migration loop, waits for the operations in flight (a
// Store that returned nil before Close began is kept), makes every value
// durable in the cold tier — with Durability None it first writes what hot
// and warm hold there, ignoring the cold budget, since data is never dropped
// to keep a budget — and closes the tiers. Operations that begin once Close
// has begun return ErrClosed. A memory value that fails its check (a
// compressed warm value that no longer decodes) does not fail Close: a good
// copy another tier holds is kept, and without one the key is written as
// corrupt, so that it reads ErrCorrupt after the next Open.
//
// If the values cannot be made durable (a full disk), Close returns the
// error and the Manager stays open, holding everything it held: free space
// and call Close again. After an fsync I/O error no retry can succeed
// (tier.ErrSyncFailed): Close then closes and returns that error, and the
// next Open recovers what reached the disk. Operations that run while
// Close tries return ErrClosed; after a failed Close they work again.
// Close of a closed Manager returns ErrClosed.
func (m *Manager) Close() error {
	m.closeMu.Lock()
	defer m.closeMu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.stopLoop()
	m.gate.Close()
	m.stopAnalyticsLocked(true) // after the drain: the last sample counts every operation
	if err := m.persist(); errors.Is(err, tier.ErrSyncFailed) {
		// No retry can succeed (see tier.ErrSyncFailed): close, and say so.
		m.closed = true
		m.memLimit.undo()
		return errors.Join(fmt.Errorf("tiermem: Close: %w", err), m.closeStores())
	} else if err != nil {
		m.gate.Reopen()
		m.startLoop()
		m.resumeAnalyticsLocked()
		return fmt.Errorf("tiermem: Close failed and the Manager stays open with every value it held; "+
			"%s, and call Close again: %w", closeAdvice(err), storeError(err))
	}
	m.closed = true
	m.memLimit.undo()
	if err := m.closeStores(); err != nil {
		return err
	}
	return m.unmarkAtClose() // what Restores put in memory is on disk now
}

// closeAdvice says what lets a failed Close succeed on a second call.
func closeAdvice(err error) string {
	switch {
	case errors.Is(err, object.ErrExists):
		return "another Manager writes under this glacier URL: give each its own"
	case errors.Is(err, object.ErrUnavailable), errors.Is(err, object.ErrNoBucket):
		return "wait until the glacier store answers again"
	}
	return "make room"
}

// closeOpened closes the built-in stores Open opened before it failed; the
// ones the options handed over are closed by Open.
func (m *Manager) closeOpened() {
	for _, t := range m.tiers {
		if m.tierOptions(t.level).Store == nil {
			t.store.Close()
		}
	}
}

func (m *Manager) closeStores() error {
	var errs []error
	for _, t := range m.tiers {
		if err := t.store.Close(); err != nil && !errors.Is(err, tier.ErrClosed) {
			errs = append(errs, fmt.Errorf("closing the %s tier: %w", t.level, err))
		}
	}
	return errors.Join(errs...)
}

// enterKey is enter for an operation on key, which it checks first.
func (m *Manager) enterKey(key string) (gate.Token, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	return m.enter()
}

// enter admits an operation, or returns ErrClosed once Close has begun. The
// operation calls m.gate.Leave with the token when it is done.
func (m *Manager) enter() (gate.Token, error) {
	tok, ok := m.gate.Enter()
	if !ok {
		return 0, ErrClosed
	}
	return tok, nil
}
