package tiermem

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/tiermem/tiermem/bundle"
	"github.com/tiermem/tiermem/internal/extsort"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/object"
)

// SnapshotOptions configure Snapshot. A nil *SnapshotOptions means the
// defaults.
type SnapshotOptions struct {
	// MemoryLimit bounds the bytes the snapshot buffers to sort its keys and
	// records (the bundle's external sort); 0 means 64 MiB. The rest goes to
	// temporary files in TempDir.
	MemoryLimit int64
	// TempDir holds the sort runs and the pre-images writers save; "" means
	// the directory of the snapshot file.
	TempDir string
	// Progress, if set, is called from the goroutine that called Snapshot,
	// holding no lock of the Manager's (it may call the Manager, but a
	// Snapshot it calls returns ErrSnapshotRunning): at the start and end
	// of each phase and every 4096 keys within one (every 65536 records
	// while writing), but after each tier while the tiers are listed. If
	// it panics, the panic goes on to Snapshot's caller, and the Snapshot
	// fails as by an error (it leaves no file) unless the panic came from
	// its last report, PhaseDone, made once the file is in place.
	Progress func(SnapshotProgress)
}

// SnapshotPhase names a step of Snapshot or Restore.
type SnapshotPhase uint8

const (
	// PhaseList lists the keys every tier holds (Snapshot).
	PhaseList SnapshotPhase = iota
	// PhaseCopy copies each key's value and state into the snapshot
	// (Snapshot), or stores each key back (Restore).
	PhaseCopy
	// PhaseWrite sorts the records and writes, syncs and renames the file
	// (Snapshot); Keys counts the records written.
	PhaseWrite
	// PhaseVerify reads the whole file back and checks it (Restore).
	PhaseVerify
	// PhaseDone: the snapshot is in place, or restored.
	PhaseDone
)

var phaseNames = [...]string{"listing", "copying", "writing", "verifying", "done"}

// String returns the phase's name.
func (p SnapshotPhase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("SnapshotPhase(%d)", uint8(p))
}

// SnapshotProgress is what Snapshot and Restore report: the phase and how
// far into it. A total is -1 while it is not known; TotalBytes during a
// Snapshot's copy is the bytes the tiers occupy (compressed, with overhead),
// an estimate of the value bytes to copy.
type SnapshotProgress struct {
	Phase      SnapshotPhase
	Keys       int64
	TotalKeys  int64
	Bytes      int64
	TotalBytes int64
}

// SnapshotInfo describes a snapshot file: what its manifest records. It is a
// plain value.
type SnapshotInfo struct {
	Path    string
	Version int       // format version of the file
	Created time.Time // the snapshot's instant, by the Manager's clock
	Keys    int64     // keys in the image
	Bytes   int64     // bytes of their values
	// Tiers counts the keys and value bytes each tier held at the instant,
	// indexed by Tier.
	Tiers [Glacier + 1]SnapshotTier
	// PreImages is the keys that writers changed while the snapshot ran,
	// whose value at the instant the writer saved first (0 in a file read
	// back: it is not recorded).
	PreImages int64
	FileSize  int64
}

// SnapshotTier counts what one tier held in a snapshot.
type SnapshotTier struct {
	Keys  int64
	Bytes int64
}

// Snapshot writes a consistent point-in-time image of every key — its value,
// tier, pin, absolute expiry, and an array's dtype and shape — to a snapshot
// file at path (a bundle, docs/snapshot-format.md), and returns what it
// holds.
//
// The image is the state at one instant, while Stores, Deletes and
// migrations go on: at the start Snapshot takes every key lock at once, for
// as long as the longest operation in flight, and that is the instant. It
// then copies the keys in key-hash order; the first Store, Delete or move
// of a key not yet copied saves the key's state (its pre-image) to a
// temporary file before it changes it, and the copy uses that. Operations
// pay one atomic load when no snapshot runs; while one does, the first
// change of each key not yet copied pays a copy of its old value. Keys
// whose TTL had run out at the instant are left out. Glacier values are
// copied by value (read from the object store), not by reference.
//
// Memory: the sort buffers (MemoryLimit), a buffer as large as the largest
// value, and, for every key changed while the snapshot runs before it is
// copied, its name. The file appears at path only when complete: it is
// written beside it, synced and renamed; a failed Snapshot leaves no file,
// nor does one that a panic of Progress ends before PhaseDone (the panic
// goes on to the caller). What a process killed while it snapshots leaves
// (the file being written beside path, the build's work directory in
// TempDir) the next Snapshot to the same path removes; the key listing's
// sort runs and the pre-image file have no name to leave.
//
// Snapshot is safe for concurrent use with every other method, and Close
// waits for the one running. Snapshots run one at a time, and do not queue:
// a Snapshot called while another runs returns ErrSnapshotRunning at once
// (one called from the running Snapshot's Progress would otherwise wait
// for ever for the Snapshot that is calling it). Errors: ErrSnapshotRunning,
// ErrClosed, ErrCorrupt for a value that fails its checksum,
// ErrUnavailable when glacier cannot be read, or the file system's.
func (m *Manager) Snapshot(path string, opts *SnapshotOptions) (SnapshotInfo, error) {
	tok, err := m.enter()
	if err != nil {
		return SnapshotInfo{}, err
	}
	defer m.gate.Leave(tok)
	if err := m.notOwnStore("snapshot", path); err != nil {
		return SnapshotInfo{}, err
	}
	o := resolveSnapshotOptions(path, opts)
	if err := m.notOwnStore("snapshot temporary directory", o.TempDir); err != nil {
		return SnapshotInfo{}, err
	}
	if !m.snapMu.TryLock() {
		return SnapshotInfo{}, fmt.Errorf("tiermem: snapshot %s: %w", path, ErrSnapshotRunning)
	}
	defer m.snapMu.Unlock()
	b, err := bundle.NewBuilder(path, &bundle.Options{MemoryLimit: o.MemoryLimit * 3 / 4, TempDir: o.TempDir,
		Streamed: true, Progress: o.bundleProgress})
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("tiermem: snapshot %s: %w", path, err)
	}
	done := false
	defer func() {
		if !done { // an error, or a panic of Progress passing through
			b.Abort()
		}
	}()
	c := &snapshotCopy{m: m, o: o, b: b, info: SnapshotInfo{Path: path, Version: snapshotVersion}}
	if err := c.run(); err != nil {
		return SnapshotInfo{}, fmt.Errorf("tiermem: snapshot %s: %w", path, err)
	}
	done = true
	return c.info, nil
}

// resolveSnapshotOptions returns a copy of opts with the defaults filled in.
func resolveSnapshotOptions(path string, opts *SnapshotOptions) SnapshotOptions {
	var o SnapshotOptions
	if opts != nil {
		o = *opts
	}
	if o.MemoryLimit <= 0 {
		o.MemoryLimit = 64 << 20
	}
	o.MemoryLimit = max(o.MemoryLimit, 4<<20)
	if o.TempDir == "" {
		o.TempDir = filepath.Dir(path)
	}
	return o
}

// report calls the Progress function, if any.
func (o SnapshotOptions) report(p SnapshotProgress) {
	if o.Progress != nil {
		o.Progress(p)
	}
}

// bundleProgress reports the bundle's writing stage as PhaseWrite.
func (o SnapshotOptions) bundleProgress(p bundle.Progress) {
	if p.Stage == bundle.StageWrite {
		o.report(SnapshotProgress{Phase: PhaseWrite, Keys: p.Done, TotalKeys: p.Total, TotalBytes: -1})
	}
}

// snapshotCopy is one Snapshot at work: the copier, which owns the builder.
type snapshotCopy struct {
	m    *Manager
	o    SnapshotOptions
	b    *bundle.Builder
	live *snapshotRun     // what the copy shares with the Manager's writers
	info SnapshotInfo     // what the file holds so far
	buf  []byte           // the value being copied, reused
	meta []byte           // its record meta, reused
	tot  SnapshotProgress // what the listing counted
	// mapped counts the bytes read from mappedBy's files since their pages
	// were last released (releaseIfDue).
	mapped   int64
	mappedBy mappedReader
}

// run lists the keys, copies them, adds the pre-images and the manifest,
// and writes the file.
func (c *snapshotCopy) run() (err error) {
	s, err := newSnapshotRun(c.o.TempDir)
	if err != nil {
		return err
	}
	defer s.close()
	c.live = s
	c.m.installSnapshot(s)
	defer func() {
		if ferr := c.m.finishSnapshot(s); err == nil {
			err = ferr
		}
	}()
	c.info.Created = time.Unix(0, s.at)
	if afterSnapshotInstant != nil {
		afterSnapshotInstant()
	}
	// The listing's runs lie in TempDir itself, where nothing sweeps them
	// after a crash: unlinked, a killed Snapshot leaves none.
	keys := extsort.New(extsort.Options{Dir: c.o.TempDir, MemoryLimit: c.o.MemoryLimit / 4, Compare: bytes.Compare, Unlink: true})
	defer keys.Close()
	if err := c.list(keys); err != nil {
		return err
	}
	if err := c.copyAll(keys); err != nil {
		return err
	}
	if err := c.m.finishSnapshot(s); err != nil {
		return err
	}
	if err := c.addPreImages(); err != nil {
		return err
	}
	return c.write()
}

// afterSnapshotInstant, when set by a test, runs right after a snapshot's
// instant, before its keys are listed.
var afterSnapshotInstant func()

// installSnapshot makes s the running snapshot at an instant when no key
// lock is held: it takes every stripe, in order, so that every operation
// on a key either ended before the instant or begins after it and sees s
// (an operation that saw none and went on changing its key after the
// instant would leave a change that is neither before nor after it). Only
// here does a goroutine hold more than one stripe: in a fixed order, while
// every other goroutine holds at most one and waits on none while holding
// it, so no cycle can form.
func (m *Manager) installSnapshot(s *snapshotRun) {
	for i := range m.locks {
		m.locks[i].Lock()
	}
	s.at = m.now().UnixNano()
	m.snap.Store(s)
	for i := range m.locks {
		m.locks[i].Unlock()
	}
}

// finishSnapshot ends s: from now on no change saves a pre-image, and once
// the savers in flight are done the Manager's operations pay nothing again.
// It returns the first error a saver met. It may be called twice.
func (m *Manager) finishSnapshot(s *snapshotRun) error {
	s.mu.Lock()
	s.all = true
	s.mu.Unlock()
	s.savers.Wait()
	m.snap.CompareAndSwap(s, nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// beforeChange saves key's pre-image for the running snapshot, if any, the
// first time key changes (is stored, deleted, copied or moved) after the
// snapshot's instant and before the snapshot copied it. The key's lock is
// held for writing. With no snapshot running it costs one atomic load.
func (m *Manager) beforeChange(key string) {
	if s := m.snap.Load(); s != nil {
		s.before(m, key)
	}
}

// list writes the key of every entry of every tier to keys, an external
// sort by key hash, then key: the order the copy follows. A key in two
// tiers is listed twice; a key that moves while the tiers are scanned may
// be listed twice or missed, but then it changed after the instant and its
// pre-image was saved.
func (c *snapshotCopy) list(keys *extsort.Sorter) error {
	c.tot = SnapshotProgress{Phase: PhaseList, TotalKeys: -1, TotalBytes: -1}
	c.o.report(c.tot)
	for _, t := range c.m.tiers {
		err := t.store.Scan(func(key string, _ []byte, size int64) error {
			c.tot.Keys++
			c.tot.Bytes += size
			return keys.Add(xxhash.Sum64String(key), []byte(key))
		})
		if err != nil {
			return fmt.Errorf("listing the %s tier: %w", t.level, storeError(err))
		}
		c.o.report(c.tot) // after each tier's scan, not in it: the scan holds the tier's locks, which Progress may need
	}
	c.o.report(c.tot)
	return nil
}

// progressKeys is how many keys pass between two progress reports.
const progressKeys = 4096

// copyAll copies every listed key, in order, under its lock: its pre-image
// if a writer saved one, else its present state, which is its state at the
// instant since nothing changed it.
func (c *snapshotCopy) copyAll(keys *extsort.Sorter) error {
	it, err := keys.Sort()
	if err != nil {
		return fmt.Errorf("sorting the keys: %w", err)
	}
	p := SnapshotProgress{Phase: PhaseCopy, TotalKeys: c.tot.Keys, TotalBytes: c.tot.Bytes}
	c.o.report(p)
	var prev []byte
	var prevHash uint64
	for it.Next() {
		h, key := it.Key(), it.Record()
		if prev != nil && h == prevHash && bytes.Equal(key, prev) {
			continue // listed in two tiers
		}
		prev, prevHash = append(prev[:0], key...), h
		n, err := c.copyKey(h, string(key))
		if err != nil {
			return err
		}
		p.Keys++
		p.Bytes += n
		if p.Keys%progressKeys == 0 {
			c.o.report(p)
			c.live.sweep()
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("sorting the keys: %w", err)
	}
	p.TotalKeys, p.TotalBytes = p.Keys, p.Bytes
	c.o.report(p)
	return nil
}

// copyKey copies one key and moves the cursor past it, and returns the
// value bytes it added.
func (c *snapshotCopy) copyKey(h uint64, key string) (int64, error) {
	lock := c.m.locks.Of(key)
	lock.RLock()
	saved := c.live.take(key)
	found := false
	var err error
	if !saved {
		found, err = c.readLocked(key)
	}
	c.live.pass(h, key)
	lock.RUnlock()
	c.releaseIfDue()
	if err != nil || !found {
		return 0, err
	}
	return int64(len(c.buf)), c.add(key, c.meta, c.buf)
}

// readLocked reads key's state into c.buf and c.meta and reports whether
// the key was there (and not expired at the instant). The key's lock is
// held.
func (c *snapshotCopy) readLocked(key string) (bool, error) {
	c.buf, c.meta = c.buf[:0], c.meta[:0]
	return c.m.viewStateLocked(key, c.live.at, func(t *tierState, value, meta []byte) error {
		c.buf = append(c.buf, value...)
		c.meta = appendRecordMeta(c.meta, t.level, meta)
		c.countMapped(t, len(value))
		return nil
	})
}

// mappedReader is a store whose reads map its files and leave the pages
// they touched resident until ReleaseMapped (tier/disk).
type mappedReader interface{ ReleaseMapped() }

// releaseEvery is how many bytes a snapshot reads from a store that maps
// its files between two releases of its pages.
const releaseEvery = 64 << 20

// countMapped counts n bytes read from t if t's store maps its files.
func (c *snapshotCopy) countMapped(t *tierState, n int) {
	if r, ok := t.store.(mappedReader); ok {
		c.mapped += int64(n)
		c.mappedBy = r
	}
}

// releaseIfDue drops the pages read from mapped files from the process
// every releaseEvery bytes, outside any key lock: the snapshot reads every
// cold value once, and would otherwise leave all of cold resident in the
// process.
func (c *snapshotCopy) releaseIfDue() {
	if c.mapped >= releaseEvery {
		c.mapped = 0
		c.mappedBy.ReleaseMapped()
	}
}

// viewStateLocked calls fn with key's value and header in the fastest tier
// that holds it, and reports whether one did with a value not expired at
// at (Unix ns). The key's lock is held.
func (m *Manager) viewStateLocked(key string, at int64, fn func(t *tierState, value, meta []byte) error) (bool, error) {
	for _, t := range m.tiers {
		live := false
		err := t.store.ViewMeta(key, func(value, meta []byte) error {
			env, err := decodeHeader(meta)
			if err != nil {
				return err
			}
			if env.Expires != 0 && env.Expires <= at {
				return nil
			}
			live = true
			return fn(t, value, meta)
		})
		if errors.Is(err, tier.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("reading %q in the %s tier: %w", key, t.level, storeError(err))
		}
		return live, nil
	}
	return false, nil
}

// add adds one key's record to the bundle and counts it.
func (c *snapshotCopy) add(key string, meta, value []byte) error {
	level := Tier(meta[0])
	c.info.Keys++
	c.info.Bytes += int64(len(value))
	c.info.Tiers[level].Keys++
	c.info.Tiers[level].Bytes += int64(len(value))
	if err := c.b.AddRecord(bundle.Record{Key: []byte(key), Value: value, Meta: meta}); err != nil {
		return fmt.Errorf("adding %q: %w", key, err)
	}
	return nil
}

// addPreImages adds the pre-images writers saved, once no writer saves any
// more.
func (c *snapshotCopy) addPreImages() error {
	return c.live.spool.each(func(key string, meta []byte, value []byte) error {
		c.info.PreImages++
		return c.add(key, meta, value)
	})
}

// write adds the manifest and writes the file.
func (c *snapshotCopy) write() error {
	c.o.report(SnapshotProgress{Phase: PhaseWrite, TotalKeys: c.info.Keys, TotalBytes: -1})
	if err := c.b.AddRecord(bundle.Record{Key: []byte{}, Value: encodeManifest(c.info)}); err != nil {
		return fmt.Errorf("adding the manifest: %w", err)
	}
	bi, err := c.b.Finish()
	if err != nil {
		return err
	}
	c.info.FileSize = bi.FileSize
	c.o.report(SnapshotProgress{Phase: PhaseDone, Keys: c.info.Keys, TotalKeys: c.info.Keys, Bytes: c.info.Bytes, TotalBytes: c.info.Bytes})
	return nil
}

// removeTemp removes a temporary file, ignoring a file already gone.
func removeTemp(f *os.File) {
	f.Close()
	os.Remove(f.Name())
}

// notOwnStore returns an error wrapping ErrOptions if path, which the
// Manager is about to write as what, lies in one of its own stores: it
// would overwrite the Manager's data (a cold segment taken for a torn
// tail, a glacier pack).
func (m *Manager) notOwnStore(what, path string) error {
	if path == "" {
		return nil
	}
	if store, tierName, ok := storeHolding(m.ownStores(), path); ok {
		return fmt.Errorf("%w: %s %s lies in %s, where this Manager keeps its %s tier: it would overwrite the Manager's own data",
			ErrOptions, what, path, store, tierName)
	}
	return nil
}

// ownStores returns the directories of the Manager's stores, by tier name:
// its cold store, and its glacier store's directory (<dir>/glacier, or the
// one its Glacier.URL names, when that is a directory).
func (m *Manager) ownStores() map[string]string {
	stores := map[string]string{"cold": filepath.Join(m.dir, "cold")}
	glacier := filepath.Join(m.dir, "glacier")
	if loc, err := object.ParseURL(m.opts.Glacier.URL, glacier); err == nil && loc.Scheme == "file" && m.opts.Glacier.Store == nil {
		glacier = loc.Path
	}
	stores["glacier"] = glacier
	return stores
}

// storeHolding returns the store directory (of stores, by tier name) that
// the path p lies in, symbolic links resolved, its tier's name, and whether
// there is one.
func storeHolding(stores map[string]string, p string) (dir, tierName string, ok bool) {
	resolve := func(p string) string {
		p, _ = filepath.Abs(p)
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return r
		}
		if r, err := filepath.EvalSymlinks(filepath.Dir(p)); err == nil { // p need not exist yet
			return filepath.Join(r, filepath.Base(p))
		}
		return p
	}
	target := resolve(p)
	for name, dir := range stores {
		store := resolve(dir)
		if rel, err := filepath.Rel(store, target); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return dir, name, true
		}
	}
	return "", "", false
}
