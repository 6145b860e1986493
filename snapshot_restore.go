package tiermem

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/tiermem/tiermem/bundle"
)

// RestoreMode says what Restore does with the keys the snapshot lacks.
type RestoreMode uint8

const (
	// RestoreReplace makes the Manager hold exactly the snapshot: Clear, then
	// every key of the snapshot (the seed's clear then restore_snapshot).
	RestoreReplace RestoreMode = iota
	// RestoreMerge stores every key of the snapshot over the key's present
	// value, if any, and keeps the keys the snapshot lacks.
	RestoreMerge
)

var restoreModeNames = [...]string{"replace", "merge"}

// String returns "replace" or "merge".
func (r RestoreMode) String() string {
	if int(r) < len(restoreModeNames) {
		return restoreModeNames[r]
	}
	return fmt.Sprintf("RestoreMode(%d)", uint8(r))
}

// ParseRestoreMode returns the mode named s ("replace" or "merge"), or an
// error wrapping ErrOptions.
func ParseRestoreMode(s string) (RestoreMode, error) {
	for i, name := range restoreModeNames {
		if s == name {
			return RestoreMode(i), nil
		}
	}
	return 0, fmt.Errorf("%w: restore mode %q (want replace or merge)", ErrOptions, s)
}

// RestoreOptions configure Restore. A nil *RestoreOptions means the
// defaults: RestoreReplace, no progress.
type RestoreOptions struct {
	Mode RestoreMode
	// Progress, if set, is called from the goroutine that called Restore:
	// while the file is verified (PhaseVerify) and while the keys are
	// stored back (PhaseCopy), every few thousand keys. If it panics, the
	// Restore stops as by an error (the directory stays marked once it was)
	// and the panic goes on.
	Progress func(SnapshotProgress)
}

// RestoreReport says what Restore did.
type RestoreReport struct {
	Keys  int64 // keys stored back
	Bytes int64 // their value bytes
	// Tiers counts the keys and value bytes stored in each tier, indexed by
	// Tier.
	Tiers [Glacier + 1]SnapshotTier
	// Demoted counts the keys that went below the tier they were in at the
	// snapshot, because that tier had no room for them (its budget is
	// smaller now, or in RestoreMerge other keys fill it), indexed by the
	// tier they were in.
	Demoted [Glacier + 1]int64
	// Expired counts the keys left out because their TTL ran out since the
	// snapshot.
	Expired int64
}

// DemotedKeys returns the number of keys that went below their tier.
func (r RestoreReport) DemotedKeys() int64 {
	var n int64
	for _, d := range r.Demoted {
		n += d
	}
	return n
}

// Restore brings back the keys of the snapshot file at path: each with its
// value, pin, absolute expiry (keys whose TTL has run out since are left
// out and counted) and, for arrays, dtype and shape, in the tier it was in
// (the fastest that held it) when that tier has room without demoting
// anything, else in the next tier down that has (counted in the report's
// Demoted), else in the last tier, which makes room as a Store does.
//
// Restore verifies the whole file before it changes anything: a truncated,
// damaged or wrong-version file, or a bundle that is not a snapshot, is an
// error wrapping ErrSnapshotCorrupt or ErrSnapshotVersion, and a value too
// large for every tier from its own down (smaller budgets than the
// snapshot's Manager had) is ErrTooLarge; the Manager then holds exactly
// what it held. Then, with RestoreReplace, it clears the
// Manager; with RestoreMerge it keeps the keys the snapshot lacks. A
// failure while storing (ErrNoSpace, a full disk) stops it: the keys stored
// so far stay, the error says how many, and the report counts them.
//
// The file must not change while Restore runs: snapshots are replaced by a
// rename, which Restore does not see (it reads the file it opened). One cut
// short meanwhile stops the Restore with ErrSnapshotCorrupt (and
// ErrRestoreIncomplete once it changed the Manager), not with the SIGBUS a
// read past the end of a mapping is; one rewritten in place with as many
// bytes is not detected: what Restore copies after the rewrite is the new
// file's, unverified. Each of the (up to 4) goroutines that store the keys
// copies a record out of the file before it stores it, in a buffer it
// keeps while that is at most 8 MiB.
//
// Before it changes anything it marks the directory (a file RESTORING in
// it) until what it restored is durable: when it returns with a Durability
// that writes through, at Close with None. A directory a Restore did not
// finish (an error, a crash, a kill, a panic of Progress) stays marked,
// and Open refuses it with ErrRestoreIncomplete rather than open part of a
// snapshot as a sound Manager; Options.OpenIncompleteRestore opens it to
// restore again. With Restores running at once, the mark goes when the
// last ends, and only if none stopped half way: that one's keys stay until
// a Restore that runs alone restores its snapshot again, or replaces
// everything.
//
// Restore is safe for concurrent use, but not isolated: a Store, Delete or
// move of a key of the snapshot that runs beside it may come before or
// after the key's restore, and with RestoreReplace a key stored while the
// Manager is cleared may be cleared too. Glacier values come back by value
// into the glacier tier. Errors: ErrSnapshotCorrupt, ErrSnapshotVersion,
// ErrTooLarge, ErrNoSpace (with ErrRestoreIncomplete), ErrOptions,
// ErrClosed, or the file system's.
func (m *Manager) Restore(path string, opts *RestoreOptions) (RestoreReport, error) {
	var o RestoreOptions
	if opts != nil {
		o = *opts
	}
	if o.Mode > RestoreMerge {
		return RestoreReport{}, fmt.Errorf("%w: restore mode %d", ErrOptions, o.Mode)
	}
	tok, err := m.enter()
	if err != nil {
		return RestoreReport{}, err
	}
	defer m.gate.Leave(tok)
	f, err := OpenSnapshot(path)
	if err != nil {
		return RestoreReport{}, err
	}
	defer f.Close()
	var tooLarge error
	if _, err := f.verify(o.Progress, func(rec bundle.Record) bool {
		tooLarge = m.checkRestorable(rec)
		return tooLarge == nil
	}); err != nil {
		return RestoreReport{}, err
	}
	if tooLarge != nil {
		return RestoreReport{}, fmt.Errorf("tiermem: restoring %s: %w (nothing was changed)", path, tooLarge)
	}
	ticket, err := m.markRestoring(path)
	if err != nil {
		return RestoreReport{}, err
	}
	finished := false
	defer func() {
		if !finished { // a panic of Progress passing through: the Restore stopped half way
			m.finishRestore(ticket, o.Mode, errRestorePanicked)
		}
	}()
	r, err := m.restoreMarked(f, path, o)
	finished = true
	return r, m.finishRestore(ticket, o.Mode, err)
}

// errRestorePanicked is what a Restore that a panic of its Progress ended
// records as its failure (the panic, not this, reaches the caller).
var errRestorePanicked = errors.New("tiermem: a panic of Progress stopped the restore")

// restoreMarked is Restore once the directory is marked.
func (m *Manager) restoreMarked(f *SnapshotFile, path string, o RestoreOptions) (RestoreReport, error) {
	if o.Mode == RestoreReplace {
		hot := m.tiers[0].used()
		if err := m.Clear(); err != nil {
			return RestoreReport{}, fmt.Errorf("tiermem: restoring %s: clearing the Manager (the directory stays marked as being restored: %w): %w",
				path, ErrRestoreIncomplete, err)
		}
		collectCleared(hot)
	}
	r, err := m.restoreAll(f, o)
	if err != nil {
		return r, fmt.Errorf("tiermem: restoring %s: stopped after %d of %d keys (the directory stays marked as being restored: %w): %w",
			path, r.Keys, f.info.Keys, ErrRestoreIncomplete, err)
	}
	return r, nil
}

// collectCleared runs a garbage collection after a Clear that dropped
// hot bytes of Go memory, when they are many: the hot tier's values are Go
// memory, and the restore would otherwise allocate the snapshot's hot
// values beside the cleared ones until the collector's pace caught up (356
// MiB more at the peak of a 4 GiB restore, measured). With the old values
// collected first, the new ones reuse their memory. One collection of a
// heap just emptied is cheap.
func collectCleared(hot int64) {
	if hot >= collectAfterClear {
		runtime.GC()
	}
}

// collectAfterClear is the hot bytes a Clear must drop for Restore to
// collect them at once.
const collectAfterClear = 64 << 20

// restoreAll stores every record of f back: the calling goroutine reads
// the file and hands batches of records (slices into the mapped file,
// valid until it is closed) to restoreWorkers goroutines that store them,
// so that the copies into the tiers use every core while the file is read.
// The first error stops it; the report counts what was stored. It returns
// only once the workers have stopped, a panic of Progress included: they
// read the mapping, which the caller then unmaps.
func (m *Manager) restoreAll(f *SnapshotFile, o RestoreOptions) (RestoreReport, error) {
	p := SnapshotProgress{Phase: PhaseCopy, TotalKeys: f.info.Keys, TotalBytes: f.info.Bytes}
	reportUnguarded(o.Progress, p)
	w := newRestoreWorkers(m, restoreWorkers())
	defer w.stopAndWait(errRestorePanicked) // on a panic; after wait, nothing
	if err := readMapped(func() { w.feed(f, o.Progress, &p) }); err != nil {
		w.stop(err)
	}
	r, err := w.wait()
	if err == nil {
		p.Phase = PhaseDone
		reportUnguarded(o.Progress, p)
	}
	return r, err
}

// feed reads every record of f and hands them to the workers in batches,
// counting them in p and reporting it to progress, until the records end or
// a worker fails. It reads the mapping: run it under readMapped.
func (w *restorePool) feed(f *SnapshotFile, progress func(SnapshotProgress), p *SnapshotProgress) {
	var batch []bundle.Record
	var batchBytes int
	for rec, err := range f.b.All() {
		if err != nil {
			w.stop(snapshotError(err))
			return
		}
		if len(rec.Key) == 0 {
			continue // the manifest
		}
		batch = append(batch, rec)
		batchBytes += len(rec.Value)
		if len(batch) == restoreBatch || batchBytes >= restoreBatchBytes {
			if !w.send(batch) {
				return
			}
			batch, batchBytes = nil, 0
		}
		p.Keys++
		p.Bytes += int64(len(rec.Value))
		if p.Keys%progressKeys == 0 {
			reportUnguarded(progress, *p)
		}
	}
	if len(batch) > 0 {
		w.send(batch)
	}
}

// A restore hands its workers batches of up to restoreBatch records or
// restoreBatchBytes of values.
const (
	restoreBatch      = 256
	restoreBatchBytes = 8 << 20
)

// restoreWorkers is how many goroutines store a restore's records: one
// per core, up to 4.
func restoreWorkers() int { return min(runtime.GOMAXPROCS(0), 4) }

// restorePool is the goroutines storing a restore's records.
type restorePool struct {
	m       *Manager
	batches chan []bundle.Record
	done    chan struct{} // closed by the first error
	once    sync.Once
	err     error
	reports []RestoreReport
	wg      sync.WaitGroup
	waited  bool // wait has run; used by the goroutine feeding the pool only
}

func newRestoreWorkers(m *Manager, n int) *restorePool {
	w := &restorePool{m: m, batches: make(chan []bundle.Record, n), done: make(chan struct{}), reports: make([]RestoreReport, n)}
	for i := range n {
		w.wg.Go(func() { w.work(&w.reports[i]) })
	}
	return w
}

// work stores the records of every batch it receives until the batches end
// or another worker fails. It copies each record out of the mapping before
// it stores it, holding no lock: a fault reading the mapping (the file cut
// short since it was verified) then stops the pool with
// ErrSnapshotCorrupt, with no lock or half-made change left behind.
func (w *restorePool) work(r *RestoreReport) {
	var key string
	var buf []byte // the record's meta, then its value
	for batch := range w.batches {
		for _, rec := range batch {
			select {
			case <-w.done:
				return
			default:
			}
			err := readMapped(func() {
				key = string(rec.Key)
				buf = append(append(buf[:0], rec.Meta...), rec.Value...)
			})
			if err == nil {
				err = w.m.restoreOne(r, key, buf[:len(rec.Meta):len(rec.Meta)], buf[len(rec.Meta):])
			}
			if err != nil {
				w.stop(err)
				return
			}
			if cap(buf) > restoreBatchBytes {
				buf = nil // a large value's buffer is not kept for the small ones after it
			}
		}
	}
}

// stop records the first error and tells every worker to stop.
func (w *restorePool) stop(err error) {
	w.once.Do(func() {
		w.err = err
		close(w.done)
	})
}

// send hands batch to a worker; false once a worker has failed.
func (w *restorePool) send(batch []bundle.Record) bool {
	select {
	case w.batches <- batch:
		return true
	case <-w.done:
		return false
	}
}

// stopAndWait stops the workers with err and waits for them, unless wait
// has run already.
func (w *restorePool) stopAndWait(err error) {
	if !w.waited {
		w.stop(err)
		w.wait()
	}
}

// wait ends the batches, waits for the workers and returns what they
// stored, with the first error. It runs once.
func (w *restorePool) wait() (RestoreReport, error) {
	w.waited = true
	close(w.batches)
	w.wg.Wait()
	var r RestoreReport
	for _, x := range w.reports {
		r.Keys += x.Keys
		r.Bytes += x.Bytes
		r.Expired += x.Expired
		for t := range r.Tiers {
			r.Tiers[t].Keys += x.Tiers[t].Keys
			r.Tiers[t].Bytes += x.Tiers[t].Bytes
			r.Demoted[t] += x.Demoted[t]
		}
	}
	return r, w.err
}

// restoreOne stores one record back and counts it.
func (m *Manager) restoreOne(r *RestoreReport, key string, recMeta, value []byte) error {
	level, meta, err := decodeRecordMeta(recMeta)
	if err != nil {
		return fmt.Errorf("%q: %w", key, err) // verified: only a file changed since
	}
	env, _ := decodeHeader(meta)
	if env.Expired(m.now()) {
		r.Expired++
		return nil
	}
	level = min(level, Tier(len(m.tiers)-1)) // glacier, in a Manager without one: cold
	t, room := m.restoreTier(key, len(value), len(meta), level)
	defer func() { room.release() }() // if put did not take it (take clears it: read it at return)
	if t.level != level {
		r.Demoted[level]++
	}
	if err := m.put(key, value, meta, env, t, prepared{room: &room}, waitStreams); err != nil {
		return err
	}
	r.Keys++
	r.Bytes += int64(len(value))
	r.Tiers[t.level].Keys++
	r.Tiers[t.level].Bytes += int64(len(value))
	return nil
}

// restoreTier returns the tier a restored value goes to, with the room it
// reserved there for it: the first from level down whose budget holds it
// beside what the tier holds and others reserved (Restore's workers run at
// once: choosing by what a tier holds, they all took its last room, and
// then made room by evicting what they had just restored, or failed when
// that was pinned), else, without a reservation, the first whose budget
// holds it once the key's own entry there, which it replaces, is gone, else
// the last.
func (m *Manager) restoreTier(key string, n, metaLen int, level Tier) (*tierState, reservation) {
	for _, t := range m.tiers[level:] {
		if !m.canHold(t, key, n, metaLen) {
			continue
		}
		est := t.estimate(key, n, metaLen)
		if t.tryReserve(est) {
			return t, reservation{t: t, key: key, n: est, reserved: true}
		}
		if old := t.sizeOf(key); old > 0 && t.used()-old+est <= t.capacity() {
			return t, reservation{}
		}
	}
	return m.tiers[len(m.tiers)-1], reservation{}
}

// canHold reports whether t's budget can take a value of n bytes whole:
// and, when the Manager is durable and t is a memory tier, the cold log's
// too, where its copy goes.
func (m *Manager) canHold(t *tierState, key string, n, metaLen int) bool {
	if t.estimate(key, n, metaLen) > t.capacity() {
		return false
	}
	cold := m.tiers[Cold]
	return t.level >= Cold || !m.durable() || cold.estimate(key, n, metaLen) <= cold.capacity()
}

// checkRestorable returns an error wrapping ErrTooLarge if the value of
// rec, a record that verify has checked, fits no tier from its own down, as
// a Store would find: it is checked before anything changes.
func (m *Manager) checkRestorable(rec bundle.Record) error {
	level, meta, err := decodeRecordMeta(rec.Meta)
	if err != nil {
		return err
	}
	level = min(level, Tier(len(m.tiers)-1))
	key := string(rec.Key)
	if !slices.ContainsFunc(m.tiers[level:], func(t *tierState) bool {
		return m.canHold(t, key, len(rec.Value), len(meta))
	}) {
		last := m.tiers[len(m.tiers)-1]
		return fmt.Errorf("%w: %q, a value of %d bytes, fits no tier from %s down (the last, %s, has a budget of %d)",
			ErrTooLarge, key, len(rec.Value), level, last.level, last.capacity())
	}
	return nil
}
