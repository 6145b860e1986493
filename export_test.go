package tiermem

import (
	"fmt"
	"sync"
	"time"

	"github.com/tiermem/tiermem/internal/vfs"
	"github.com/tiermem/tiermem/tier"
)

// FakeClock is a time source tests move by hand.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewFakeClock returns a clock at a fixed instant.
func NewFakeClock() *FakeClock { return &FakeClock{now: time.Unix(1_800_000_000, 0)} }

// Now returns the clock's time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// SetClock makes a Manager opened with o read time from c.
func SetClock(o *Options, c *FakeClock) { o.clock = c.Now }

// SetColdFS makes a Manager opened with o keep its cold tier in fs.
func SetColdFS(o *Options, fs vfs.FS) { o.coldFS = fs }

// PutRaw writes value and meta (the value's header) straight into tier t's
// store, for tests that damage what the Manager reads back.
func PutRaw(m *Manager, t Tier, key string, value, meta []byte) error {
	_, err := m.tiers[t].store.Put(key, value, meta)
	return err
}

// HeldIn reports whether tier t's store holds key.
func HeldIn(m *Manager, t Tier, key string) bool { return m.tiers[t].has(key) }

// MemoryKeysWithoutLogCopy returns the keys the hot and warm tiers hold
// that the cold log has no copy of: none while a durable Manager is at rest.
func MemoryKeysWithoutLogCopy(m *Manager) []string {
	var missing []string
	for _, t := range m.tiers[:Cold] {
		keys, _ := m.keysOf(t)
		for _, k := range keys {
			if !m.tiers[Cold].has(k) {
				missing = append(missing, k)
			}
		}
	}
	return missing
}

// SetSweepListed sets a function SetDurability calls after it has listed
// a memory tier's keys, before it copies them to the log.
func SetSweepListed(m *Manager, fn func(Tier)) { m.sweepListed = fn }

// BreakInWarm makes key's value in m's warm tier fail its check, as a
// compressed value that no longer decodes does (tier/offheap's own tests
// damage one for real): reads and scans of it report tier.ErrCorrupt. Fault
// injection: the warm store is wrapped, and must not be in use meanwhile.
// With scan false the wrapper hides the store's ScanValues, so that Close
// takes its key-by-key path.
func BreakInWarm(m *Manager, key string, scan bool) {
	t := m.tiers[Warm]
	b := &brokenValue{Store: t.store, key: key}
	t.store, t.getter, t.sizer, t.valueLener = b, nil, nil, nil
	if scan {
		t.store = brokenScanner{b}
	}
}

type brokenValue struct {
	tier.Store
	key string
}

func (b *brokenValue) err() error { return fmt.Errorf("warm: %q: %w", b.key, tier.ErrCorrupt) }

func (b *brokenValue) ViewMeta(key string, fn func(value, meta []byte) error) error {
	if key == b.key {
		return b.err()
	}
	return b.Store.ViewMeta(key, fn)
}

type brokenScanner struct{ *brokenValue }

func (b brokenScanner) ScanValues(fn func(key string, value, meta []byte, bad error) error) error {
	return b.Store.(tier.ValueScanner).ScanValues(func(key string, value, meta []byte, bad error) error {
		if key == b.key {
			value, bad = nil, b.err()
		}
		return fn(key, value, meta, bad)
	})
}

// ExpiresIn returns the expiry in key's header in tier t's store (0 for
// none), read from that tier alone.
func ExpiresIn(m *Manager, t Tier, key string) (int64, error) {
	meta, err := m.tiers[t].store.Meta(key)
	if err != nil {
		return 0, err
	}
	env, err := decodeHeader(meta)
	return env.Expires, err
}
