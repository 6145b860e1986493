package disk

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tiermem/tiermem/tier"
)

// Recovery rebuilds the index at Open from the segment files alone. It
// fails closed: bytes that do not verify anywhere but in a torn tail make
// Open fail with a *CorruptError (tier.ErrCorrupt), since skipping them
// could serve an older value or resurrect a deleted key. [Repair] then
// salvages what is intact.
//
//   - A segment header must verify and name its file's id. The one
//     exception: the tail segment (below) with no byte past its header,
//     or only zeros, whose creation a crash cut short; it holds nothing
//     and is removed.
//   - A sealed segment with a hint file whose checksum, segment id and
//     segment size check out is indexed from the hint; its data is not read.
//     A hint that fails any check, or is larger than a hint of its segment
//     can be (maxHintSize), is ignored and its segment scanned; a larger
//     one is never read into memory.
//   - Any other segment is scanned: record headers only. Every byte after
//     the segment header must be in a record whose header (with its key and
//     meta) verifies, except in a torn tail.
//   - A torn tail is what a crash leaves behind an append it cut short: on
//     the tail segment (the newest one appends went to) only, the bytes
//     after the last record that verifies, when no record that verifies
//     starts anywhere after them and they are what a cut append leaves:
//     fewer bytes than a header, a header whose head or value runs past
//     the end of the file (unless a flipped bit, or a damaged length that
//     set to end the record at the end of the file verifies, explains
//     it), or zeros. A complete head that fails its checksum, or a header
//     that does not decode over bytes that are not all zero, is damage. A
//     torn tail is truncated, silently but for Stats.TruncatedBytes.
//   - A segment whose header is sealed (flagSealed) has no torn tail and
//     must hold the record count of its seal: fewer means its end was cut,
//     on a record boundary, after it was whole; the records lost may have
//     been any key's newest. Bytes past its records (whole ones or a torn
//     append) are a format 1 writer's appends: it is then as unsealed.
//   - A record whose head verifies but whose value does not is indexed, so
//     reading its key is tier.ErrCorrupt, never an older value.
//   - Records from all segments are resolved by sequence number: the newest
//     put or tombstone of each key wins, wherever it lies.
//
// Recovery never panics on garbage: every length is checked against the
// file before it is used. Nor does it open litter: only regular files with
// the names the store writes (lower-case hex ids below 2^63) are read.

// recovered is a segment file Open found.
type recovered struct {
	g        *segment
	headerOK bool  // its header verified and names its file's id
	sealed   int64 // the record count its header was sealed with, or -1 (see flagSealed)
	records  int   // records indexed from it
}

// recover rebuilds the index from the files in s.dir and opens the active
// segment.
func (s *Store) recover() error {
	names, err := s.fs.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("disk: listing %s: %w", s.dir, err)
	}
	ids, hints := s.sortFiles(names)
	found, err := s.openSegments(ids)
	if err != nil {
		return err
	}
	var tail *recovered
	for _, r := range found {
		if !r.g.compacted {
			tail = r
		}
	}
	s.reserveForHints(found, hints)
	s.log.seq = 1
	for _, r := range found {
		if err := s.load(r, hints[r.g.id], r == tail); err != nil {
			return err
		}
	}
	s.stats.recovered.Store(int64(len(found)))
	s.removeOrphanHints(found, hints)
	return s.resume(found, tail)
}

// sortFiles returns the segment ids in dir, sorted, and the ids that have a
// hint file, and sets the next segment id. Only the store's files count
// (see storeFile); anything else is litter and left alone.
func (s *Store) sortFiles(names []string) ([]uint64, map[uint64]bool) {
	var ids []uint64
	hints := make(map[uint64]bool)
	s.nextID.Store(1)
	for _, name := range names {
		id, ext, ok := s.storeFile(name)
		switch {
		case !ok:
		case ext == segmentExt:
			ids = append(ids, id)
		default:
			hints[id] = true
		}
	}
	slices.Sort(ids)
	return ids, hints
}

// storeFile returns the id and extension of name if it is a segment or
// hint file of the store: a regular file with a canonical name (see
// parseName). It removes temporary files, which no complete write leaves.
// Every segment name, a regular file's or not, numbers the next segment
// past it: only segment names do (a stray hint file, removed as an
// orphan, must not use up ids), and their ids are at most maxSegmentID,
// so the next one fits.
func (s *Store) storeFile(name string) (uint64, string, bool) {
	path := filepath.Join(s.dir, name)
	if strings.HasSuffix(name, tmpExt) {
		s.fs.Remove(path)
		return 0, "", false
	}
	id, ext, ok := parseName(name)
	if !ok {
		return 0, "", false
	}
	if ext == segmentExt {
		s.nextID.Store(max(s.nextID.Load(), id+1))
	}
	return id, ext, isRegular(s.fs, path)
}

// reserveForHints sizes the index for the records the hint files of the
// segments found list (their trailers' counts, each bounded by what its
// segment can hold), and an eighth more, so that loading them does not
// grow its maps step by step: the keys of a store are mostly in hinted
// segments. Records of one key in several segments make the count more
// than the keys: at worst the maps are that much larger. Orphan hint
// files are not opened.
func (s *Store) reserveForHints(found []*recovered, hints map[uint64]bool) {
	var n uint64
	for _, r := range found {
		if hints[r.g.id] {
			n += hintCount(s.fs, s.dir, r.g.id, r.g.size.Load())
		}
	}
	s.index.grow(int(n + n/8))
}

// openSegments opens the segment files and reads their headers. A header
// from a newer format is an error at once; one that does not verify is
// judged by load, which knows the tail.
func (s *Store) openSegments(ids []uint64) ([]*recovered, error) {
	var found []*recovered
	for _, id := range ids {
		r, err := s.openSegment(id)
		if err != nil {
			return nil, err
		}
		s.segs.add(r.g)
		found = append(found, r)
	}
	return found, nil
}

func (s *Store) openSegment(id uint64) (*recovered, error) {
	name := fileName(s.dir, id, segmentExt)
	f, err := s.fs.OpenReadWrite(name)
	if err != nil {
		return nil, fmt.Errorf("disk: opening segment %d: %w", id, err)
	}
	size, err := f.Size()
	b := make([]byte, min(max(size, 0), segmentHeaderSize))
	if err == nil {
		_, err = f.ReadAt(b, 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("disk: reading segment %d: %w", id, err)
	}
	h, herr := decodeSegmentHeader(b)
	if errors.Is(herr, ErrVersion) {
		f.Close()
		return nil, fmt.Errorf("disk: %s: %w", name, herr)
	}
	ok := herr == nil && h.id == id
	g := newSegment(id, f, size, ok && h.flags&flagCompacted != 0)
	r := &recovered{g: g, headerOK: ok, sealed: -1}
	if ok {
		r.sealed = h.sealedRecords()
	}
	return r, nil
}

// load indexes the records of r.
func (s *Store) load(r *recovered, hasHint, isTail bool) error {
	if !r.headerOK {
		return s.checkTornCreation(r.g, isTail)
	}
	recs, err := s.records(r.g, hasHint, isTail, r.sealed)
	if err != nil {
		return err
	}
	for i := range recs {
		rec := &recs[i]
		s.index.apply(string(rec.key()), entryOf(r.g, rec))
		s.log.seq = max(s.log.seq, rec.h.seq+1)
	}
	r.records = len(recs)
	return nil
}

// checkTornCreation accepts segment g, whose header does not verify, as
// one whose creation a crash cut short if it is the tail and holds no byte
// past its header, or only zeros; anything else is corruption.
func (s *Store) checkTornCreation(g *segment, isTail bool) error {
	if isTail {
		torn, err := tornCreation(g.file, g.size.Load())
		if err != nil {
			return ioError(err, "reading segment %d", g.id)
		}
		if torn {
			return nil
		}
	}
	return &CorruptError{Dir: s.dir, File: filepath.Base(fileName(s.dir, g.id, segmentExt)), Off: 0,
		Reason: "the segment header does not verify or names another segment"}
}

// records returns the records of g: from its hint file if that checks out,
// from a scan otherwise. sealed is the record count g's header was sealed
// with, or -1: a sealed segment has no torn tail, and holds that many.
func (s *Store) records(g *segment, hasHint, isTail bool, sealed int64) ([]scanned, error) {
	if hasHint {
		recs, err := readHint(s.fs, s.dir, g)
		if err == nil {
			g.hinted.Store(true)
			s.stats.hinted.Add(1)
			return recs, s.checkSealed(g, len(recs), sealed)
		}
		if errors.Is(err, ErrVersion) {
			return nil, fmt.Errorf("disk: hint file of segment %d: %w", g.id, err)
		}
		// A sealed segment whose records end before its sound hint says
		// was cut: its last records (a newer value, a delete) are gone,
		// and a scan that ends on a record boundary would take the older
		// ones for the truth. Only the tail's torn end may be dropped.
		var cut *hintSizeError
		if errors.As(err, &cut) && !isTail && cut.hinted > uint64(cut.size) {
			return nil, &CorruptError{Dir: s.dir, File: filepath.Base(fileName(s.dir, g.id, segmentExt)), Off: cut.size,
				Reason: cut.Error() + ": its end was cut"}
		}
	}
	size := g.size.Load()
	res, err := scanSegment(g.file, size, 0)
	if sealed >= 0 && err == nil && appendedPastSeal(res, size, sealed) {
		sealed = -1
	}
	switch {
	case err != nil:
		return nil, ioError(err, "scanning segment %d", g.id)
	case res.clean(size):
		return res.recs, s.checkSealed(g, len(res.recs), sealed)
	case isTail && res.torn() && sealed < 0:
		return res.recs, s.cutTornTail(g, res.end)
	case sealed >= 0 && res.torn():
		return nil, &CorruptError{Dir: s.dir, File: filepath.Base(fileName(s.dir, g.id, segmentExt)), Off: res.end,
			Reason: fmt.Sprintf("the segment was sealed whole with %d records, and its end was cut", sealed)}
	}
	return nil, res.corruptAt(s.dir, filepath.Base(fileName(s.dir, g.id, segmentExt)))
}

// appendedPastSeal reports whether a segment sealed with sealed records
// holds bytes past them, whole records or a torn append: only a format 1
// writer, which ignores the seal, appends to a sealed segment.
func appendedPastSeal(res scanResult, size, sealed int64) bool {
	n := int64(len(res.recs))
	return n > sealed || n == sealed && !res.clean(size)
}

// checkSealed fails unless g, whose header was sealed with sealed records
// (-1: not sealed), holds at least that many. Fewer means its end was cut,
// on a record boundary (a cut elsewhere does not scan clean): the older
// records of the lost ones' keys would stand for them. More were appended
// past the seal by a format 1 writer (which ignores it): g is then as a
// format 1 segment.
func (s *Store) checkSealed(g *segment, n int, sealed int64) error {
	if sealed < 0 || int64(n) >= sealed {
		return nil
	}
	return &CorruptError{Dir: s.dir, File: filepath.Base(fileName(s.dir, g.id, segmentExt)), Off: g.size.Load(),
		Reason: fmt.Sprintf("the segment holds %d records, and was sealed with %d: its end was cut", n, sealed)}
}

// cutTornTail truncates tail segment g at cut, the end of its last record.
func (s *Store) cutTornTail(g *segment, cut int64) error {
	size := g.size.Load()
	if err := g.file.Truncate(cut); err != nil {
		return ioError(err, "truncating the torn tail of segment %d", g.id)
	}
	g.size.Store(cut)
	g.written.Store(cut)
	g.dirty.Store(true)
	s.stats.truncated.Add(size - cut)
	return nil
}

// removeOrphanHints removes hint files whose segment is gone: compaction
// removed the segment before its hint.
func (s *Store) removeOrphanHints(found []*recovered, hints map[uint64]bool) {
	for _, r := range found {
		delete(hints, r.g.id)
	}
	for id := range hints {
		s.fs.Remove(fileName(s.dir, id, hintExt))
	}
}

// resume opens the active segment: the tail segment if it verifies and has
// room, a new one otherwise. It seals the others, queues the hint files
// they lack, and removes segments that hold no record.
func (s *Store) resume(found []*recovered, tail *recovered) error {
	reuse := tail != nil && tail.headerOK && tail.g.size.Load() < s.opts.SegmentSize && s.reopenTail(tail) == nil
	for _, r := range found {
		switch {
		case reuse && r == tail:
		case r.records == 0:
			s.retire(r.g)
		default:
			r.g.sealed.Store(true)
			if !r.g.hinted.Load() {
				s.bg.unhinted = append(s.bg.unhinted, r.g)
			}
		}
	}
	if reuse {
		return nil
	}
	s.log.Lock()
	defer s.log.Unlock()
	id := s.nextID.Add(1) - 1
	g, err := s.createSegment(id, false, fileName(s.dir, id, segmentExt))
	if errors.Is(err, tier.ErrNoSpace) {
		// A full disk must not keep the store's values from being read: the
		// store opens with no active segment, and the first write creates
		// one (rotateLocked), or fails with ErrNoSpace while the disk is full.
		return nil
	}
	if err != nil {
		return err
	}
	s.segs.add(g)
	s.setActiveLocked(g)
	return nil
}

// reopenTail makes r's segment, sealed by a clean Close, the active segment
// again. Its hint file goes, since appends will outdate it, and so does the
// seal in its header, durably before any append: a seal that outlived a
// crash would make the records after it damage. If that fails, r's
// segment stays sealed and the caller starts a new one.
func (s *Store) reopenTail(r *recovered) error {
	g := r.g
	if r.sealed >= 0 {
		if err := g.writeHeader(-1); err != nil {
			return err
		}
		if err := g.sync(&s.stats.fsyncs); err != nil {
			return err
		}
	}
	if g.hinted.Swap(false) {
		s.fs.Remove(fileName(s.dir, g.id, hintExt))
	}
	s.setActiveLocked(g)
	return nil
}
