package disk

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/tiermem/tiermem/internal/vfs"
)

// salvage is what Repair found in one segment file: its records in file
// order, each with what becomes of it, and its damaged regions. It is not
// safe for concurrent use.
type salvage struct {
	id        uint64
	name      string   // base name
	file      vfs.File // open for reading until Repair is done
	size      int64
	headerOK  bool  // its header verifies and names its id
	compacted bool  // its header verifies and says compacted
	sealed    int64 // the record count its verifying header was sealed with, or -1

	items  []item
	damage []Damage
	torn   *Damage // the tail's torn end, left for Open

	// cut, if not nil, is what its hint file says of a cut at its end:
	// the hint verifies and names a larger size (see hintCut).
	cut *hintSizeError
}

// item is one record of a salvaged segment.
type item struct {
	rec scanned // rec.head is the corrected head for opRestore
	op  itemOp
}

func (it *item) key() string { return string(it.rec.key()) }

// itemOp says what Repair writes for a record.
type itemOp uint8

const (
	opKeep    itemOp = iota // intact: copied as it is
	opRestore               // one bit of its head corrected, value verifies: corrected head, then its value
	opTomb                  // damaged, key known: a tombstone with its key and sequence number
	opDrop                  // damaged, and a newer intact record of its key exists: nothing
)

// open opens segment id and reads its header.
func (r *repairer) open(id uint64) (*salvage, error) {
	name := fileName(r.dir, id, segmentExt)
	f, err := r.fs.Open(name)
	if err != nil {
		return nil, fmt.Errorf("disk: repair: opening %s: %w", filepath.Base(name), err)
	}
	sv := &salvage{id: id, name: filepath.Base(name), file: f}
	if err := sv.readHeader(); err != nil {
		f.Close()
		return nil, err
	}
	return sv, nil
}

func (sv *salvage) readHeader() error {
	size, err := sv.file.Size()
	b := make([]byte, min(max(size, 0), segmentHeaderSize))
	if err == nil {
		_, err = sv.file.ReadAt(b, 0)
	}
	if err != nil {
		return fmt.Errorf("disk: repair: reading %s: %w", sv.name, err)
	}
	h, herr := decodeSegmentHeader(b)
	if errors.Is(herr, ErrVersion) {
		return fmt.Errorf("disk: repair: %s: %w", sv.name, herr)
	}
	sv.size = size
	sv.headerOK = herr == nil && h.id == sv.id
	sv.compacted = sv.headerOK && h.flags&flagCompacted != 0
	sv.sealed = -1
	if sv.headerOK {
		sv.sealed = h.sealedRecords()
	}
	return nil
}

// examine reads every record of the segment, values included. A sealed
// segment has no torn tail, and one that holds fewer records than it was
// sealed with lost them.
func (sv *salvage) examine(isTail bool) error {
	isTail = isTail && sv.sealed < 0
	if !sv.headerOK {
		torn, err := tornCreation(sv.file, sv.size)
		if err != nil {
			return err
		}
		if isTail && torn {
			sv.torn = &Damage{File: sv.name, End: sv.size, Reason: "a segment whose creation a crash cut short"}
			return nil
		}
		sv.damage = append(sv.damage, Damage{File: sv.name, End: min(sv.size, segmentHeaderSize),
			Reason: "the segment header does not verify", Unreadable: sv.size <= segmentHeaderSize})
	}
	w := window{r: sv.file, size: sv.size}
	for off := min(sv.size, segmentHeaderSize); off < sv.size; {
		rec, ok, err := w.record(off)
		if err != nil {
			return err
		}
		if ok {
			err = sv.addRecord(rec)
			off = rec.end()
		} else {
			off, err = sv.addDamage(&w, off, isTail)
		}
		if err != nil {
			return err
		}
	}
	sv.checkCut()
	sv.checkSealed()
	return nil
}

// checkCut records, as unreadable damage at the end of the segment, the
// cut that its hint file tells: the records lost may have held any key's
// newest version. A format 1 segment, never sealed, has only its hint to
// tell a cut on a record boundary.
func (sv *salvage) checkCut() {
	if sv.cut == nil {
		return
	}
	sv.damage = append(sv.damage, Damage{File: sv.name, Start: sv.size, End: sv.size, Unreadable: true,
		Reason: sv.cut.Error() + ": its end was cut"})
}

// checkSealed records, as unreadable damage at the end of the segment, the
// records a segment sealed with more lost: a cut on a record boundary that
// only its header's count tells. Unreadable damage explains a shortfall
// itself; a damaged value or a corrected head is still a record, and
// explains none of it. More records than the seal were appended past it
// by a format 1 writer.
func (sv *salvage) checkSealed() {
	unreadable := slices.ContainsFunc(sv.damage, func(d Damage) bool { return d.Unreadable })
	if sv.sealed < 0 || int64(len(sv.items)) >= sv.sealed || unreadable {
		return
	}
	sv.damage = append(sv.damage, Damage{File: sv.name, Start: sv.size, End: sv.size, Unreadable: true,
		Reason: fmt.Sprintf("the segment holds %d records and was sealed with %d: its end was cut", len(sv.items), sv.sealed)})
}

// addRecord adds rec, whose head verifies, checking its value.
func (sv *salvage) addRecord(rec scanned) error {
	good, err := valueOK(sv.file, &rec)
	if err != nil || good {
		sv.items = append(sv.items, item{rec: rec, op: opKeep})
		return err
	}
	sv.items = append(sv.items, item{rec: rec, op: opTomb})
	sv.damage = append(sv.damage, Damage{File: sv.name, Start: rec.off, End: rec.end(),
		Reason: "the value does not match its checksum", Keys: []string{string(rec.key())}})
	return nil
}

// addDamage records the damaged bytes at off, where no record with a
// verifying head starts, and returns where reading resumes.
func (sv *salvage) addDamage(w *window, off int64, isTail bool) (int64, error) {
	fixed, ok, err := w.fixHead(off)
	if err != nil {
		return 0, err
	}
	if ok {
		return fixed.end(), sv.addFixed(fixed)
	}
	next, err := w.resync(off + 1)
	if err != nil {
		return 0, err
	}
	damaged, err := w.damagedAt(off)
	if err != nil {
		return 0, err
	}
	end := next
	if next < 0 {
		end = sv.size
	}
	d := Damage{File: sv.name, Start: off, End: end}
	if isTail && next < 0 && !damaged {
		d.Reason = "an append that a crash cut short"
		sv.torn = &d
		return end, nil
	}
	d.Reason, d.Unreadable = "no record with a verifying header starts here", true
	sv.damage = append(sv.damage, d)
	return end, nil
}

// addFixed adds a record whose head verified once fixHead flipped one bit
// back: restored if its value verifies, a tombstone otherwise.
func (sv *salvage) addFixed(rec scanned) error {
	good, err := valueOK(sv.file, &rec)
	if err != nil {
		return err
	}
	d := Damage{File: sv.name, Start: rec.off, End: rec.end(), Keys: []string{string(rec.key())}}
	it := item{rec: rec, op: opTomb}
	if good {
		it.op, d.Restored = opRestore, true
		d.Reason = "one flipped bit in the record's head, corrected"
	} else {
		d.Reason = "one flipped bit in the record's head, and a value that does not match its checksum"
	}
	sv.items = append(sv.items, it)
	sv.damage = append(sv.damage, d)
	return nil
}

// needsRewrite reports whether the segment holds damage to rewrite away.
func (sv *salvage) needsRewrite() bool { return len(sv.damage) > 0 }

// kept returns how many records a rewrite would write.
func (sv *salvage) kept() int {
	n := 0
	for i := range sv.items {
		if sv.items[i].op != opDrop {
			n++
		}
	}
	return n
}

// writeTo writes the salvaged segment to f: a header flagged compacted and
// sealed, then every record but the dropped ones.
func (sv *salvage) writeTo(f vfs.File) error {
	var a appender
	a.reset(newSegment(sv.id, f, 0, true), 0)
	if err := a.write(headerFor(sv.id, true, sv.kept()).encode()); err != nil {
		return err
	}
	buf := make([]byte, 1<<20)
	for i := range sv.items {
		if err := sv.writeItem(&a, &sv.items[i], buf); err != nil {
			return err
		}
	}
	return a.flush()
}

func (sv *salvage) writeItem(a *appender, it *item, buf []byte) error {
	rec := &it.rec
	switch it.op {
	case opKeep:
		return sv.copyRange(a, rec.off, rec.h.size(), buf)
	case opRestore:
		if err := a.write(rec.head); err != nil {
			return err
		}
		return sv.copyRange(a, rec.off+int64(len(rec.head)), int64(rec.h.stored), buf)
	case opTomb:
		h := header{kind: kindDelete, seq: rec.h.seq, sum: valueSum(nil)}
		return a.write(appendHead(nil, h, it.key(), nil))
	}
	return nil
}

// copyRange appends the n bytes at off in the segment to a, a piece at a
// time through buf.
func (sv *salvage) copyRange(a *appender, off, n int64, buf []byte) error {
	for n > 0 {
		p := buf[:min(n, int64(len(buf)))]
		if _, err := sv.file.ReadAt(p, off); err != nil {
			return err
		}
		if err := a.write(p); err != nil {
			return err
		}
		off, n = off+int64(len(p)), n-int64(len(p))
	}
	return nil
}
