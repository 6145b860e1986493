package disk

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tiermem/tiermem/internal/vfs"
)

// Repair salvages a store that Open refuses with a *CorruptError: it keeps
// every intact record, drops the damaged bytes, and makes sure that no key
// whose newest record was damaged reads as an older value. It reports
// exactly what was lost.
//
// Every segment is read in full, values verified. A damaged record whose
// head can still be read (it verifies, or one flipped bit of it is found
// and corrected) is rewritten as it was if its value verifies, and
// otherwise replaced by a tombstone with its sequence number, so that its
// key reads as not found rather than as an older value; such keys are
// listed as lost unless a newer intact record of them exists. A damaged
// record with an intact copy of the same sequence number (a compaction's
// output, when a crash kept its input) is the same record: it is dropped,
// and its key keeps its value. Bytes in
// which no record can be read are dropped: a record there may have held
// the newest version of any key, which then reads as its previous version
// (RepairReport.Unreadable says whether that happened). So are the records
// cut from the end of a segment other than the tail, which its seal's
// record count or its hint file (a hint that verifies but names a larger
// size) tells, as Open does. A torn tail is left for Open to drop, as it
// always does. Files that are not the store's (see names.go) are left
// alone.
//
// Each damaged segment is rewritten whole under a temporary name, synced
// and renamed over the old one, its hint file removed first and the
// directory synced before and after; so Repair can be interrupted at any
// point and run again, and running it on a repaired store changes nothing.
// Repair takes the directory's lock: it fails with ErrLocked while a Store
// has dir open. After it returns without error, Open succeeds.
func Repair(dir string, opts *RepairOptions) (RepairReport, error) {
	o := opts.resolve()
	r := &repairer{fs: o.FS, dir: dir, report: RepairReport{Dir: dir, DryRun: o.DryRun}}
	lock, err := lockDir(r.fs, dir)
	if err != nil {
		return r.report, err
	}
	defer lock.Close()
	if err := r.run(); err != nil {
		return r.report, err
	}
	return r.report, nil
}

// RepairOptions configure Repair. A nil *RepairOptions means defaults.
type RepairOptions struct {
	// DryRun makes Repair report what it finds and would do, and change
	// nothing.
	DryRun bool

	// FS is the file system. Default vfs.Default.
	FS vfs.FS
}

func (o *RepairOptions) resolve() RepairOptions {
	var r RepairOptions
	if o != nil {
		r = *o
	}
	if r.FS == nil {
		r.FS = vfs.Default
	}
	return r
}

// RepairReport says what Repair found and did (or, in a dry run, would do).
type RepairReport struct {
	Dir      string
	DryRun   bool
	Segments int // segment files examined
	Records  int // intact records kept

	// Damage lists the damaged regions, by file and offset.
	Damage []Damage

	// LostKeys are the keys whose newest record was damaged: they now read
	// as not found, never as an older value. Sorted.
	LostKeys []string

	// TornTail, if not nil, is the end of the tail segment that a crash
	// cut short: Open drops it, as it does for any store.
	TornTail *Damage

	// Rewritten and Removed name the segment files rewritten with their
	// salvaged records and removed (nothing in them could be kept).
	Rewritten, Removed []string
}

// Damage is one damaged region of a segment file.
type Damage struct {
	File       string // a name in the store's directory
	Start, End int64  // the byte range [Start, End)
	Reason     string // what does not verify

	// Keys are the keys of the damaged records that could be read.
	Keys []string

	// Restored says the region was one record with one flipped bit in its
	// head, found and corrected, and a value that verifies: it was
	// rewritten as it was, and nothing is lost.
	Restored bool

	// Unreadable says the region holds bytes in which no record could be
	// read: one may have held the newest version of any key.
	Unreadable bool
}

// Bytes returns the length of the region.
func (d *Damage) Bytes() int64 { return d.End - d.Start }

// Clean reports whether Repair found no damage (a torn tail is not damage).
func (r *RepairReport) Clean() bool { return len(r.Damage) == 0 }

// BytesDropped returns the bytes of the damaged regions that were not
// restored (tombstones written in their place not subtracted).
func (r *RepairReport) BytesDropped() int64 {
	var n int64
	for i := range r.Damage {
		if !r.Damage[i].Restored {
			n += r.Damage[i].Bytes()
		}
	}
	return n
}

// Unreadable reports whether a damaged region held bytes in which no key
// could be read: a record there may have held the newest version of some
// key, which now reads as its previous version (or as not found).
func (r *RepairReport) Unreadable() bool {
	return slices.ContainsFunc(r.Damage, func(d Damage) bool { return d.Unreadable })
}

// repairer is one run of Repair. It is not safe for concurrent use.
type repairer struct {
	fs     vfs.FS
	dir    string
	report RepairReport
	segs   []*salvage
}

// run examines every segment, decides what each damaged record becomes,
// and rewrites the damaged segments unless this is a dry run.
func (r *repairer) run() error {
	defer r.closeAll()
	ids, err := r.segmentIDs()
	if err != nil {
		return err
	}
	if err := r.examineAll(ids); err != nil {
		return err
	}
	r.settle()
	if r.report.DryRun {
		return nil
	}
	for _, sv := range r.segs {
		if err := r.apply(sv); err != nil {
			return err
		}
	}
	return nil
}

// segmentIDs lists the segment ids in the directory, sorted, and removes
// temporary files (no complete write leaves one) unless this is a dry run.
func (r *repairer) segmentIDs() ([]uint64, error) {
	names, err := r.fs.ReadDir(r.dir)
	if err != nil {
		return nil, fmt.Errorf("disk: repair: listing %s: %w", r.dir, err)
	}
	var ids []uint64
	for _, name := range names {
		if strings.HasSuffix(name, tmpExt) && !r.report.DryRun {
			r.fs.Remove(filepath.Join(r.dir, name))
		}
		id, ext, ok := parseName(name)
		if ok && ext == segmentExt && isRegular(r.fs, filepath.Join(r.dir, name)) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// examineAll opens and reads every segment; the tail is the last one whose
// header does not say compacted, as Open decides.
func (r *repairer) examineAll(ids []uint64) error {
	for _, id := range ids {
		sv, err := r.open(id)
		if err != nil {
			return err
		}
		r.segs = append(r.segs, sv)
	}
	tail := -1
	for i, sv := range r.segs {
		if !sv.compacted {
			tail = i
		}
	}
	for i, sv := range r.segs {
		if err := r.examine(sv, i == tail); err != nil {
			return err
		}
	}
	return nil
}

// examine reads sv, and its hint file unless it is the tail: a hint that
// names a larger size than a segment other than the tail has says its end
// was cut, as Open decides.
func (r *repairer) examine(sv *salvage, isTail bool) error {
	if !isTail {
		cut, err := hintCut(r.fs, fileName(r.dir, sv.id, hintExt), sv.id, sv.size)
		if err != nil {
			return fmt.Errorf("disk: repair: %w", err)
		}
		sv.cut = cut
	}
	if err := sv.examine(isTail); err != nil {
		return fmt.Errorf("disk: repair: reading %s: %w", sv.name, err)
	}
	r.report.Segments++
	return nil
}

func (r *repairer) closeAll() {
	for _, sv := range r.segs {
		sv.file.Close()
	}
}

// settle decides, from the intact records of every segment, which damaged
// records with a known head are lost (no newer intact record of their key:
// they become tombstones) and which are dead anyway; it fills the report.
func (r *repairer) settle() {
	newest := make(map[string]uint64)
	for _, sv := range r.segs {
		for i := range sv.items {
			if it := &sv.items[i]; it.op == opKeep || it.op == opRestore {
				newest[it.key()] = max(newest[it.key()], it.rec.h.seq)
			}
		}
	}
	lost := make(map[string]bool)
	for _, sv := range r.segs {
		for i := range sv.items {
			it := &sv.items[i]
			if it.op != opTomb {
				continue
			}
			if seq, ok := newest[it.key()]; ok && seq >= it.rec.h.seq {
				// A newer intact record wins anyway; one with the same
				// sequence number is the same record (a copy compaction
				// made before a crash kept its input), which a tombstone
				// here would hide.
				it.op = opDrop
			} else if it.rec.h.kind == kindPut {
				lost[it.key()] = true
			}
		}
		r.fillReport(sv)
	}
	for k := range lost {
		r.report.LostKeys = append(r.report.LostKeys, k)
	}
	slices.Sort(r.report.LostKeys)
}

// fillReport adds what was found in sv to the report.
func (r *repairer) fillReport(sv *salvage) {
	r.report.Damage = append(r.report.Damage, sv.damage...)
	for i := range sv.items {
		if sv.items[i].op == opKeep {
			r.report.Records++
		}
	}
	if sv.torn != nil {
		r.report.TornTail = sv.torn
	}
	switch {
	case !sv.needsRewrite():
	case sv.kept() == 0:
		r.report.Removed = append(r.report.Removed, sv.name)
	default:
		r.report.Rewritten = append(r.report.Rewritten, sv.name)
	}
}

// apply rewrites or removes sv if it is damaged, and removes its hint
// file: first, so that no hint outlives its segment's rewrite, unless the
// hint is what tells sv's cut (a format 1 segment has no seal to tell
// it). That hint goes last, so that an interrupted Repair leaves a store
// Open refuses, never a cut segment that passes for whole; it names a
// larger size than the rewrite has, so Open never takes it for the new
// segment's.
func (r *repairer) apply(sv *salvage) error {
	if !sv.needsRewrite() {
		return nil
	}
	hint := fileName(r.dir, sv.id, hintExt)
	if sv.cut != nil {
		if err := r.replace(sv); err != nil {
			return err
		}
		return r.removeSynced(hint)
	}
	if err := r.removeSynced(hint); err != nil {
		return err
	}
	return r.replace(sv)
}

// replace rewrites sv with its salvaged records, or removes it if none is
// kept.
func (r *repairer) replace(sv *salvage) error {
	if sv.kept() == 0 {
		return r.removeSynced(fileName(r.dir, sv.id, segmentExt))
	}
	return r.rewrite(sv)
}

// removeSynced removes name, if it exists, and syncs the directory.
func (r *repairer) removeSynced(name string) error {
	err := r.fs.Remove(name)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil
	}
	if err == nil {
		err = r.fs.SyncDir(r.dir)
	}
	if err != nil {
		return ioError(err, "repair: removing %s", filepath.Base(name))
	}
	return nil
}

// rewrite replaces sv's file with its salvaged records: written to a
// temporary file, synced, renamed over the old one, the directory synced.
// The new segment is flagged compacted: complete and never appended to.
func (r *repairer) rewrite(sv *salvage) error {
	name := fileName(r.dir, sv.id, segmentExt)
	tmp := name + tmpExt
	f, err := r.fs.Create(tmp)
	if err != nil {
		return ioError(err, "repair: creating %s", filepath.Base(tmp))
	}
	err = sv.writeTo(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = r.fs.Rename(tmp, name)
	}
	if err == nil {
		err = r.fs.SyncDir(r.dir)
	}
	if err != nil {
		r.fs.Remove(tmp)
		return ioError(err, "repair: rewriting %s", sv.name)
	}
	return nil
}
