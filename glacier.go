package tiermem

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tiermem/tiermem/internal/header"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/object"
)

// unbounded is the budget of a tier that has none (a glacier tier without
// Size): far from overflowing when reservations are added to it.
const unbounded = math.MaxInt64 / 4

// What a demotion into glacier gathers before it waits for the upload. A
// Store that needs room in cold waits for one pack of the default size
// (its pack and index cost two requests per 32 MiB), not one upload per
// value; a migration pass gathers four, so that the store uploads the
// first packs while the batch copies the next ones out of cold (with one
// pack per batch the two took turns: 0.68× the server's raw PUT rate).
const (
	glacierBatchBytes     = 32 << 20
	glacierPassBatchBytes = 4 * glacierBatchBytes
)

// glacierBatchKeys bounds the keys of one batch, whatever their size.
const glacierBatchKeys = 1 << 14

// victimRepeats ends a batch once the victims offered this many keys in a
// row that it had already tried: a sampling chooser (the cold tier's) may
// offer a key again until the batch has taken it out of the tier.
const victimRepeats = 32

// openGlacier returns the glacier tier's store: the one the options hand
// over, or the object store at Glacier.URL (<dir>/glacier by default).
func (m *Manager) openGlacier() (tier.Store, error) {
	g := m.opts.Glacier
	if g.Store != nil {
		return g.Store, nil
	}
	b, err := object.OpenURL(context.Background(), g.URL, filepath.Join(m.dir, "glacier"))
	if err != nil {
		return nil, fmt.Errorf("%w: Glacier.URL: %w", ErrOptions, err)
	}
	opts := g.Object
	if opts == nil {
		opts = &object.Options{Compression: object.ZstdBetter}
	}
	return object.Open(b, opts)
}

// glacierOptions returns the glacier tier's options in the form the other
// tiers have.
func (m *Manager) glacierOptions() TierOptions {
	size := m.opts.Glacier.Size
	if size == 0 {
		size = unbounded
	}
	return TierOptions{Size: size, Store: m.opts.Glacier.Store}
}

// demotesInBatches reports whether t's victims go down to glacier, which
// takes them in batches: a value leaves t only once the pack holding it is
// durable, and one upload per value would make millions of objects.
func (m *Manager) demotesInBatches(t *tierState) bool {
	return m.glacier != nil && t.level == Cold
}

// glacierBatch is a batch of keys copied from one tier into glacier, to be
// deleted from it once glacier has made them durable.
type glacierBatch struct {
	from  *tierState
	limit int64 // the bytes it gathers before its upload
	keys  []string
	bytes int64
}

// full reports whether the batch has gathered enough to upload.
func (b *glacierBatch) full() bool {
	return b.bytes >= b.limit || len(b.keys) >= glacierBatchKeys
}

// evictToGlacier demotes a batch of about limit bytes of from's victims
// into glacier, or returns errNoVictim when from has none. The caller
// holds no key lock.
func (m *Manager) evictToGlacier(from *tierState, limit int64) error {
	m.glacierMu.Lock()
	defer m.glacierMu.Unlock()
	b := &glacierBatch{from: from, limit: limit}
	tried := map[string]struct{}{}
	var err error
	for repeats := 0; !b.full() && repeats < victimRepeats; {
		key, ok := from.victims.next()
		if !ok {
			break
		}
		if _, dup := tried[key]; dup {
			repeats++ // a sampled victim, staged or skipped already
			continue
		}
		tried[key], repeats = struct{}{}, 0
		from.victims.removed(key) // out of a policy while in flight: next() moves on
		if err = m.stage(b, key); err != nil {
			m.readdVictim(from, key)
			break
		}
	}
	if len(b.keys) == 0 {
		if err == nil {
			err = errNoVictim // none, or only keys that must stay (in a tier above, with a durable log)
		}
		return err
	}
	moved, cerr := m.commitGlacier(b)
	from.evictions.Add(int64(moved))
	return errors.Join(err, cerr)
}

// demoteToGlacier demotes keys from t to glacier, a batch at a time.
func (m *Manager) demoteToGlacier(from *tierState, keys []string) error {
	m.glacierMu.Lock()
	defer m.glacierMu.Unlock()
	b := &glacierBatch{from: from, limit: glacierPassBatchBytes}
	for _, key := range keys {
		if err := m.stage(b, key); err != nil {
			_, cerr := m.commitGlacier(b)
			return errors.Join(err, cerr)
		}
		if b.full() {
			if _, err := m.commitGlacier(b); err != nil {
				return err
			}
			b = &glacierBatch{from: from, limit: glacierPassBatchBytes}
		}
	}
	_, err := m.commitGlacier(b)
	return err
}

// stage copies key from b.from into glacier and adds it to the batch, if
// b.from holds it and may let it go: with a durable log the cold tier
// keeps the copy of every value a memory tier holds, so such a key stays.
// The glacier copy is not durable until commitGlacier.
func (m *Manager) stage(b *glacierBatch, key string) error {
	size, metaLen, err := m.sizeIn(b.from, key)
	if errors.Is(err, tier.ErrNotFound) || errors.Is(err, tier.ErrCorrupt) {
		return nil // gone, or damaged: a damaged value stays where its reads say ErrCorrupt, and blocks no one
	}
	if err != nil {
		return storeError(err)
	}
	est := m.glacier.estimate(key, size, metaLen)
	if err := m.reserve(m.glacier, est, size, waitStreams); err != nil {
		return fmt.Errorf("demoting %q from %s to glacier: %w", key, b.from.level, err)
	}
	defer m.glacier.unreserve(est)
	lock := m.locks.Of(key)
	lock.Lock()
	defer lock.Unlock()
	if m.durable() && m.inTierAbove(key, b.from) {
		return nil // demoted from the memory tier later, through dropCopy, which makes it a victim again
	}
	if m.pinnedLocked(b.from, key) {
		return nil // pinned since it was chosen: it stays
	}
	ok, err := m.copyLocked(key, b.from, m.glacier, est)
	if ok {
		b.keys = append(b.keys, key)
		b.bytes += int64(size)
	}
	if errors.Is(err, ErrCorrupt) {
		return nil
	}
	return err
}

// inTierAbove reports whether a tier faster than t holds key. The key's
// lock is held, or no operation runs (Close, its gate closed).
func (m *Manager) inTierAbove(key string, t *tierState) bool {
	for _, u := range m.tiers[:t.level] {
		if u.has(key) {
			return true
		}
	}
	return false
}

// commitGlacier waits until glacier holds the batch durably, then deletes
// each key from the tier it left, unless the key changed meanwhile (a
// Store or Move that replaced or removed the glacier copy; the Store that
// replaced it in glacier itself removed the older copy). It returns the
// keys moved. If the upload fails, the glacier copies are taken back and
// the keys stay where they were.
func (m *Manager) commitGlacier(b *glacierBatch) (int, error) {
	if len(b.keys) == 0 {
		return 0, nil
	}
	if err := m.glacier.persistent.Sync(); err != nil {
		m.unstage(b)
		return 0, fmt.Errorf("tiermem: demoting %d values to glacier: %w (they stay in the %s tier)", len(b.keys), storeError(err), b.from.level)
	}
	moved := 0
	for _, key := range b.keys {
		ok, err := m.finishDemotion(b.from, key)
		if err != nil {
			return moved, err
		}
		if ok {
			moved++
		}
	}
	b.from.demotions.Add(int64(moved))
	return moved, nil
}

// finishDemotion deletes key from the tier it was demoted from, now that
// glacier's copy is durable, if glacier still holds it.
func (m *Manager) finishDemotion(from *tierState, key string) (bool, error) {
	lock := m.locks.Of(key)
	lock.Lock()
	defer lock.Unlock()
	if !m.glacier.has(key) {
		return false, nil // replaced or deleted since: its new copy is the one that counts
	}
	if m.durable() && m.inTierAbove(key, from) {
		return false, nil // copied up since (a Copy): the log keeps the copy of every value a memory tier holds
	}
	return m.removeFrom(from, key)
}

// unstage takes back the glacier copies of a batch whose upload failed,
// for the keys still in the tier they were to leave (as victims again).
func (m *Manager) unstage(b *glacierBatch) {
	for _, key := range b.keys {
		lock := m.locks.Of(key)
		lock.Lock()
		if b.from.has(key) {
			m.removeFrom(m.glacier, key) // a failure leaves a second copy: more glacier bytes, nothing lost
			m.readdVictim(b.from, key)
		}
		lock.Unlock()
	}
}

// readdVictim makes key one of t's victims again, if t holds it.
func (m *Manager) readdVictim(t *tierState, key string) {
	meta, err := t.store.Meta(key)
	if err != nil {
		return
	}
	t.victims.added(key, t.sizeOf(key), header.IsPinned(meta))
}

// dropShadowedGlacierCopies removes from glacier, at Open, the keys the
// cold tier holds too. A crash leaves such pairs: between a demotion's
// upload and its delete from cold (the same value twice), or before
// glacier's record that a key left it was durable, when the cold copy is
// newer. Reads find cold first, and the cold copy is never older, so it
// is the one to keep: a glacier copy left behind could later come back
// (a Move to glacier finding it there).
func (m *Manager) dropShadowedGlacierCopies() error {
	if m.glacier == nil {
		return nil
	}
	cold := m.tiers[Cold]
	var shadowed []string
	err := m.glacier.store.Scan(func(key string, _ []byte, _ int64) error {
		if cold.has(key) {
			shadowed = append(shadowed, key)
		}
		return nil
	})
	if err != nil || len(shadowed) == 0 {
		return storeError(err)
	}
	for _, key := range shadowed {
		if _, err := m.glacier.store.Delete(key); err != nil && !errors.Is(err, tier.ErrNotFound) {
			return fmt.Errorf("tiermem: dropping %q's stale glacier copy at Open: %w", key, storeError(err))
		}
	}
	return m.syncGlacier()
}

// glacierUndo returns what puts glacier back as it is for key, before a
// Store replaces it there: the value it holds put back, or the key
// removed. It reads the value it holds, if any, so it fails when glacier
// cannot be read. The key's lock is held, when glacierUndo is called and
// when what it returns is.
//
// The undo must leave nothing a crash could turn into the Store's value:
// a failed Sync may upload the Store's pack later without the pack of the
// write that takes it back. So the built-in store takes the Store's frame
// out of its pack while the bucket does not hold that pack (Revert); when
// it cannot (the pack was uploaded, or may have been), the undo is a
// later write, and glacier is synced once more at once, so that the undo
// is durable unless glacier fails again.
func (m *Manager) glacierUndo(key string) (func(), error) {
	var old, oldMeta []byte
	had := true
	err := m.glacier.store.ViewMeta(key, func(value, meta []byte) error {
		old, oldMeta = bytes.Clone(value), bytes.Clone(meta)
		return nil
	})
	switch {
	case errors.Is(err, tier.ErrNotFound), errors.Is(err, tier.ErrCorrupt):
		// Nothing to put back (a damaged value is lost already): a key
		// whose Store failed then reads as absent from glacier.
		had = false
	case err != nil:
		return nil, storeError(err)
	}
	if r, ok := m.glacier.store.(reverter); ok {
		return func() {
			withdrawn, err := r.Revert(key, old, oldMeta, had) // it fails only for a closed store
			if err == nil && !withdrawn {
				m.syncGlacier() // best effort: the Store failed already, and says so
			}
		}, nil
	}
	if !had {
		return func() { m.glacier.store.Delete(key) }, nil
	}
	return func() {
		if r, ok := m.glacier.store.(restorer); ok {
			r.Restore(key, old, oldMeta) // appends to memory: it cannot fail but for a closed store
		} else {
			m.glacier.store.Put(key, old, oldMeta)
		}
	}, nil
}

// restorer is a store that can put a value back without first retrying
// the uploads that failed (tier/object's Restore): the undo of a Store
// whose upload failed must not fail for the same reason.
type restorer interface {
	Restore(key string, value, meta []byte) (int64, error)
}

// reverter is a store that takes a Put whose Sync failed back out of the
// pack not yet uploaded that holds it (tier/object's Revert), as restorer
// does otherwise: see glacierUndo.
type reverter interface {
	Revert(key string, value, meta []byte, had bool) (withdrawn bool, err error)
}

// syncGlacier makes what glacier holds durable: the values stored there
// and the removals of the keys that left it. Passes and Close call it; so
// do moves into glacier before the other copies go and, with a durable
// log, Stores into glacier and Deletes of glacier keys before they
// return, and the removal of a cold copy that hides a glacier copy
// dropped unsynced, before the cold tombstone (settleDropBeforeCold).
//
// It syncs the cold tier first, so that a value that left glacier for
// cold is durable there before glacier's record of its leaving is.
// Concurrent callers share syncs (group commit): a caller whose writes a
// sync begun after them covers waits for that one and returns its result.
func (m *Manager) syncGlacier() error {
	if m.glacier == nil {
		return nil
	}
	if p, ok := m.glacier.store.(pender); ok {
		dropped := m.glacierSync.takeDropped() // before the look: a removal noted after it stays noted
		if !p.Pending() {
			m.glacierSync.settle(dropped, true)
			return nil // nothing to upload (every removal noted is): no need to fsync cold first, as every pass would
		}
		m.glacierSync.settle(dropped, false)
	}
	ticket := m.glacierSync.asked.Add(1) // after the caller's writes
	m.glacierSync.mu.Lock()
	defer m.glacierSync.mu.Unlock()
	if m.glacierSync.covered >= ticket {
		return m.glacierSync.err
	}
	start := m.glacierSync.asked.Load()
	dropped := m.glacierSync.takeDropped() // before the sync: what it makes durable
	err := m.tiers[Cold].persistent.Sync()
	if err != nil {
		err = fmt.Errorf("tiermem: syncing the cold tier before glacier: %w", storeError(err))
	} else if err = m.glacier.persistent.Sync(); err != nil {
		err = fmt.Errorf("tiermem: syncing the glacier tier: %w", storeError(err))
	}
	m.glacierSync.settle(dropped, err == nil)
	m.glacierSync.covered, m.glacierSync.err = start, err
	return err
}

// pender is a store that tells whether a Sync has anything to do
// (tier/object's Pending).
type pender interface{ Pending() bool }

// groupSync lets concurrent syncGlacier calls share one sync.
type groupSync struct {
	asked   atomic.Int64 // tickets handed out, one per call
	mu      sync.Mutex   // one sync at a time; protects covered and err
	covered int64        // the last ticket the latest sync covers
	err     error        // that sync's result

	// dropped holds the keys whose glacier copy was removed since the last
	// sync that succeeded (a Store or Move to another tier drops it): until
	// glacier's record of that removal is synced, a crash brings the copy
	// back, so a durable removal of such a key must sync glacier too, or
	// the older value returns once the newer one's removal is durable.
	// inFlight counts the keys a sync took from dropped and has not
	// settled: they stay dropped for wasDropped until it succeeds, and go
	// back to dropped if it fails.
	droppedMu sync.Mutex
	dropped   map[string]struct{}
	inFlight  map[string]int
}

// noteDropped records that key's glacier copy was removed, unsynced.
func (g *groupSync) noteDropped(key string) {
	g.droppedMu.Lock()
	defer g.droppedMu.Unlock()
	g.noteLocked(key)
}

// noteLocked is noteDropped with droppedMu held.
func (g *groupSync) noteLocked(key string) {
	if _, ok := g.dropped[key]; ok {
		return
	}
	if g.dropped == nil {
		g.dropped = map[string]struct{}{}
	}
	g.dropped[strings.Clone(key)] = struct{}{}
}

// wasDropped reports whether key's glacier copy was removed and no sync
// that succeeded has made that durable yet: noted, or taken by a sync
// still running.
func (g *groupSync) wasDropped(key string) bool {
	g.droppedMu.Lock()
	defer g.droppedMu.Unlock()
	_, ok := g.dropped[key]
	return ok || g.inFlight[key] > 0
}

// takeDropped returns the keys noted so far, for a sync about to begin,
// and moves them in flight; settle ends that.
func (g *groupSync) takeDropped() map[string]struct{} {
	g.droppedMu.Lock()
	defer g.droppedMu.Unlock()
	d := g.dropped
	g.dropped = nil
	if len(d) > 0 && g.inFlight == nil {
		g.inFlight = map[string]int{}
	}
	for key := range d {
		g.inFlight[key]++
	}
	return d
}

// settle ends the flight of the keys takeDropped returned: their removal
// is durable when synced, else they are noted again. wasDropped sees each
// key throughout.
func (g *groupSync) settle(keys map[string]struct{}, synced bool) {
	if len(keys) == 0 {
		return
	}
	g.droppedMu.Lock()
	defer g.droppedMu.Unlock()
	for key := range keys {
		if !synced {
			g.noteLocked(key)
		}
		if g.inFlight[key]--; g.inFlight[key] <= 0 {
			delete(g.inFlight, key)
		}
	}
}

// syncsRemoval reports whether a durable removal of key must sync glacier:
// glacier held it (inGlacier), or its copy there was dropped unsynced.
func (m *Manager) syncsRemoval(key string, inGlacier bool) bool {
	return m.durable() && (inGlacier || m.glacierSync.wasDropped(key))
}

// compactGlacier rewrites the glacier packs whose live share fell low,
// when the glacier store is the built-in one.
func (m *Manager) compactGlacier() error {
	s, ok := m.glacierStore()
	if !ok {
		return nil
	}
	if err := s.Compact(); err != nil {
		return fmt.Errorf("tiermem: compacting the glacier tier: %w", storeError(err))
	}
	return nil
}

// glacierStore returns the glacier tier's object store, if it has one.
func (m *Manager) glacierStore() (*object.Store, bool) {
	if m.glacier == nil {
		return nil, false
	}
	s, ok := m.glacier.store.(*object.Store)
	return s, ok
}

// errNoGlacierStore says that the glacier tier's store is not one the
// glacier tools know.
func (m *Manager) errNoGlacierStore() error {
	if m.glacier == nil {
		return fmt.Errorf("%w: glacier (Glacier.Disabled)", ErrUnknownTier)
	}
	return fmt.Errorf("%w: the glacier tier's store is a %T, not a tier/object store", ErrOptions, m.glacier.store)
}

// GlacierPacks lists the glacier tier's packs, with their live share.
// Errors: ErrUnknownTier without a glacier tier, ErrOptions when the tier's
// store was handed over and is not a tier/object store, ErrClosed.
func (m *Manager) GlacierPacks() ([]object.PackInfo, error) {
	tok, err := m.enter()
	if err != nil {
		return nil, err
	}
	defer m.gate.Leave(tok)
	s, ok := m.glacierStore()
	if !ok {
		return nil, m.errNoGlacierStore()
	}
	packs, err := s.Packs()
	return packs, storeError(err)
}

// VerifyGlacier reads every pack of the glacier tier back from the store
// and checks every value's checksum and every index against its pack. A
// damaged pack is an error wrapping ErrCorrupt that names it. Errors as
// GlacierPacks, and the store's when it cannot be read.
func (m *Manager) VerifyGlacier() error {
	tok, err := m.enter()
	if err != nil {
		return err
	}
	defer m.gate.Leave(tok)
	s, ok := m.glacierStore()
	if !ok {
		return m.errNoGlacierStore()
	}
	return storeError(s.Verify())
}

// CompactGlacier rewrites now the glacier packs whose live share is below
// Object.MinLiveShare (migration passes do it too), deleting each old pack
// once its live values are durable in a new one. Errors as GlacierPacks.
func (m *Manager) CompactGlacier() error {
	tok, err := m.enter()
	if err != nil {
		return err
	}
	defer m.gate.Leave(tok)
	if _, ok := m.glacierStore(); !ok {
		return m.errNoGlacierStore()
	}
	return m.compactGlacier()
}
