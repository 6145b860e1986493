package tiermem

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/tiermem/tiermem/bundle"
	"github.com/tiermem/tiermem/internal/header"
)

// SnapshotFile is a snapshot opened for reading without restoring it: its
// manifest, and any key looked up in place through the bundle's index.
// Opening it maps the file and reads only the header and the manifest, so
// it takes the same time whatever the file's size.
//
// A SnapshotFile is safe for concurrent use; Close must not run
// concurrently with its other methods, and no slice it returned may be used
// after Close.
type SnapshotFile struct {
	b    *bundle.Bundle
	info SnapshotInfo

	checked  sync.Once // the bundle's checksums, verified at the first Lookup
	checkErr error
}

// SnapshotEntry is one key of a snapshot: its state at the snapshot's
// instant.
type SnapshotEntry struct {
	Key     string
	Tier    Tier      // the fastest tier that held it
	Value   []byte    // the value's bytes, in the file's mapping: valid until Close, read-only
	Pinned  bool      // stored with Pinned
	Expires time.Time // its absolute expiry; the zero Time when it has none
	// IsArray is set for a value stored as an Array, whose element type and
	// shape are DType and Shape (Array returns it).
	IsArray bool
	DType   DType
	Shape   []int
}

// Array returns the entry's value as an Array sharing its bytes (valid
// until the file's Close), or an error wrapping ErrType if it is not one.
func (e SnapshotEntry) Array() (Array, error) {
	if !e.IsArray {
		return Array{}, fmt.Errorf("%w: %q is not an array", ErrType, e.Key)
	}
	return Array{DType: e.DType, Shape: e.Shape, Data: e.Value}, nil
}

// OpenSnapshot opens the snapshot file at path for lookups. It checks the
// bundle's header and the manifest, not every byte: Verify does. Verify and
// Restore, which read the whole file, keep at most about 64 MiB of it mapped
// in the process (bundle.Bundle.ReleaseBehind). Errors
// wrap ErrSnapshotCorrupt (a damaged or truncated file, or a bundle that is
// not a snapshot), ErrSnapshotVersion, or the file system's.
func OpenSnapshot(path string) (*SnapshotFile, error) {
	b, err := bundle.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tiermem: opening snapshot: %w", snapshotError(err))
	}
	b.ReleaseBehind() // Verify and Restore read it once: keep 64 MiB of it resident, not all
	f := &SnapshotFile{b: b}
	if f.info, err = f.readManifest(); err != nil {
		b.Close()
		return nil, fmt.Errorf("tiermem: opening snapshot %s: %w", path, err)
	}
	f.info.Path, f.info.FileSize = path, b.Info().FileSize
	return f, nil
}

// readManifest finds and decodes the manifest.
func (f *SnapshotFile) readManifest() (SnapshotInfo, error) {
	if f.b.Index() != bundle.Exact {
		return SnapshotInfo{}, fmt.Errorf("%w: a bundle with an %s index, not a snapshot", ErrSnapshotCorrupt, f.b.Index())
	}
	r, err := f.b.GetRecord(manifestKey)
	if errors.Is(err, bundle.ErrNotFound) {
		err = fmt.Errorf("%w: no manifest (a bundle, but not a snapshot)", ErrSnapshotCorrupt)
	} else if err == nil {
		var info SnapshotInfo
		if info, err = decodeManifest(r.Value); err == nil {
			return info, nil
		}
	}
	if verr := f.b.Verify(); verr != nil { // a damaged file, rather than a bundle of another kind
		return SnapshotInfo{}, snapshotError(verr)
	}
	return SnapshotInfo{}, snapshotError(err)
}

// snapshotError maps the bundle's errors to the snapshot sentinels,
// keeping both.
func snapshotError(err error) error {
	switch {
	case errors.Is(err, bundle.ErrCorrupt):
		return fmt.Errorf("%w: %w", ErrSnapshotCorrupt, err)
	case errors.Is(err, bundle.ErrVersion):
		return fmt.Errorf("%w: %w", ErrSnapshotVersion, err)
	}
	return err
}

// readMapped runs fn, which reads a snapshot file's mapping, and returns
// an error wrapping ErrSnapshotCorrupt if a page of it could not be read (a
// file cut short since it was opened) instead of the SIGBUS that kills the
// process, as bundle.Bundle.Verify does. A panic that is no memory fault
// goes on. fn must hold no lock and leave nothing half done where it can
// fault: the fault ends it at once.
func readMapped(fn func()) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = faultError(r)
		}
	}()
	fn()
	return nil
}

// faultError returns the error of r, what recover returned after a memory
// fault with SetPanicOnFault on, and panics again with any other r.
func faultError(r any) error {
	if e, ok := r.(runtime.Error); ok {
		if _, fault := e.(interface{ Addr() uintptr }); fault {
			return fmt.Errorf("%w: a page of the file cannot be read (cut short since it was opened?): %v", ErrSnapshotCorrupt, e)
		}
	}
	panic(r)
}

// reportUnguarded calls progress, if set, with p, with memory faults fatal
// as usual: progress is the caller's code, called from inside readMapped,
// whose faults are no fault of the file.
func reportUnguarded(progress func(SnapshotProgress), p SnapshotProgress) {
	if progress == nil {
		return
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(false))
	progress(p)
}

// Info returns what the manifest records.
func (f *SnapshotFile) Info() SnapshotInfo { return f.info }

// Lookup returns key's entry, or an error wrapping ErrNotFound. Its slices
// point into the mapping: valid until Close, and read-only. A record's
// bytes are covered by the checksums of the file's sections, not by one of
// their own, so the first Lookup of a SnapshotFile checks the whole file
// against them (it reads the file once; later Lookups read only their
// record): a damaged file is ErrSnapshotCorrupt, for every key, never an
// altered value or a key reported missing. The record found is checked as
// Verify checks each one (its key, its header, an array's shape against
// its data) before it is decoded. A file cut short since it was opened is
// ErrSnapshotCorrupt too, not a SIGBUS; but reading a Value returned
// before the cut faults as any mapping does. Safe for concurrent use.
func (f *SnapshotFile) Lookup(key string) (SnapshotEntry, error) {
	if err := checkKey(key); err != nil {
		return SnapshotEntry{}, err
	}
	f.checked.Do(func() {
		if err := f.b.Verify(); err != nil {
			f.checkErr = fmt.Errorf("tiermem: snapshot %s: %w", f.info.Path, snapshotError(err))
		}
	})
	if f.checkErr != nil {
		return SnapshotEntry{}, f.checkErr
	}
	var e SnapshotEntry
	var err error
	if ferr := readMapped(func() { e, err = f.lookup(key) }); ferr != nil {
		err = ferr
	}
	if errors.Is(err, ErrNotFound) {
		return SnapshotEntry{}, err
	}
	if err != nil {
		return SnapshotEntry{}, fmt.Errorf("tiermem: reading %q in the snapshot: %w", key, err)
	}
	return e, nil
}

// lookup finds key's record and checks it as Verify does (an array whose
// shape does not fit its data is ErrSnapshotCorrupt, never an entry whose
// Array a caller would index out of bounds) before it decodes it. It reads
// the mapping: run it under readMapped.
func (f *SnapshotFile) lookup(key string) (SnapshotEntry, error) {
	r, err := f.b.GetRecord([]byte(key))
	if errors.Is(err, bundle.ErrNotFound) {
		return SnapshotEntry{}, fmt.Errorf("%w: %q (not in the snapshot)", ErrNotFound, key)
	}
	if err != nil {
		return SnapshotEntry{}, snapshotError(err)
	}
	if err := checkRecord(r); err != nil {
		return SnapshotEntry{}, err
	}
	return entryOf(r)
}

// entryOf decodes a record of the image.
func entryOf(r bundle.Record) (SnapshotEntry, error) {
	level, meta, err := decodeRecordMeta(r.Meta)
	if err != nil {
		return SnapshotEntry{}, err
	}
	env, _ := header.Decode(meta) // checked by decodeRecordMeta
	e := SnapshotEntry{Key: string(r.Key), Tier: level, Value: r.Value, Pinned: env.Pinned}
	if env.Expires != 0 {
		e.Expires = time.Unix(0, env.Expires)
	}
	if env.Kind == header.Array {
		e.IsArray, e.DType, e.Shape = true, DType(env.DType), env.Shape
	}
	return e, nil
}

// Verify reads the whole file and checks every byte against the bundle's
// checksums and structure, then every record's key and meta, and the counts
// against the manifest. It returns nil or an error wrapping
// ErrSnapshotCorrupt that says where.
func (f *SnapshotFile) Verify() error {
	_, err := f.verify(nil, nil)
	return err
}

// verify is Verify, reporting the records it walked to progress; it
// returns the value bytes of the records with each tier's share. If check
// is set, it is called with every record that passes, and the walk stops
// (with a nil error) at the first for which it returns false: Restore's
// check that each value fits a tier, in the same pass over the file.
func (f *SnapshotFile) verify(progress func(SnapshotProgress), check func(bundle.Record) bool) (SnapshotInfo, error) {
	reportUnguarded(progress, SnapshotProgress{Phase: PhaseVerify, TotalKeys: f.info.Keys, TotalBytes: f.info.Bytes})
	if err := f.b.Verify(); err != nil {
		return SnapshotInfo{}, fmt.Errorf("tiermem: verifying snapshot %s: %w", f.info.Path, snapshotError(err))
	}
	var got SnapshotInfo
	var err error
	stopped := false
	if ferr := readMapped(func() { stopped, err = f.verifyRecords(&got, progress, check) }); ferr != nil {
		err = ferr
	}
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("tiermem: verifying snapshot %s: %w", f.info.Path, err)
	}
	if stopped {
		return got, nil
	}
	if got.Keys != f.info.Keys || got.Bytes != f.info.Bytes || got.Tiers != f.info.Tiers {
		return SnapshotInfo{}, fmt.Errorf("%w: %s: the manifest records %d keys of %d bytes, the file holds %d keys of %d bytes",
			ErrSnapshotCorrupt, f.info.Path, f.info.Keys, f.info.Bytes, got.Keys, got.Bytes)
	}
	return got, nil
}

// verifyRecords is verify's walk over the records, counting them in got; it
// reports whether check stopped it. It reads the mapping: run it under
// readMapped (the bundle's checksums were verified, but the file may have
// been cut short since).
func (f *SnapshotFile) verifyRecords(got *SnapshotInfo, progress func(SnapshotProgress), check func(bundle.Record) bool) (bool, error) {
	for r, err := range f.b.All() {
		if err != nil {
			return false, snapshotError(err)
		}
		if len(r.Key) == 0 {
			continue // the manifest
		}
		if err := checkRecord(r); err != nil {
			return false, fmt.Errorf("key %q: %w", r.Key, err)
		}
		if check != nil && !check(r) {
			return true, nil
		}
		got.Keys++
		got.Bytes += int64(len(r.Value))
		got.Tiers[r.Meta[0]].Keys++
		got.Tiers[r.Meta[0]].Bytes += int64(len(r.Value))
		if got.Keys%progressKeys == 0 {
			reportUnguarded(progress, SnapshotProgress{Phase: PhaseVerify, Keys: got.Keys, TotalKeys: f.info.Keys, Bytes: got.Bytes, TotalBytes: f.info.Bytes})
		}
	}
	return false, nil
}

// checkRecord checks that a record is one a Manager can take back: its
// key, its header, and, for an array, that its shape fits its data, as
// StoreArray would check.
func checkRecord(r bundle.Record) error {
	if err := checkKey(string(r.Key)); err != nil {
		return fmt.Errorf("%w: %w", ErrSnapshotCorrupt, err)
	}
	_, meta, err := decodeRecordMeta(r.Meta)
	if err != nil {
		return err
	}
	if env, _ := decodeHeader(meta); env.Kind == header.Array {
		a := Array{DType: DType(env.DType), Shape: env.Shape, Data: r.Value}
		if err := a.Validate(); err != nil {
			return fmt.Errorf("%w: the array %q: %w", ErrSnapshotCorrupt, r.Key, err)
		}
	}
	return nil
}

// Close unmaps the file; every slice it returned becomes invalid.
func (f *SnapshotFile) Close() error { return f.b.Close() }
