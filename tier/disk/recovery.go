package disk

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// Recovery rebuilds the index at Open from the segment files alone:
//
//   - A sealed segment with a hint file whose checksum, segment id and
//     segment size check out is indexed from the hint; its data is not read.
//   - Any other segment is scanned: record headers only. A region whose
//     headers do not verify is skipped by resynchronising on the next
//     complete record with a verifying header (counted in Stats). A record
//     whose header verifies but whose value does not is indexed anyway, so
//     reading its key is tier.ErrCorrupt, never an older value.
//   - The tail segment (the newest one appends went to) is scanned if it has
//     no hint, and its torn tail is truncated: a partial last record, bytes
//     that hold no record, and a run of last records whose values fail their
//     checksum (a write the crash tore). Every complete record before the
//     cut is kept.
//   - Records from all segments are resolved by sequence number: the newest
//     put or tombstone of each key wins, wherever it lies.
//
// Recovery never panics on garbage: every length is checked against the
// file before it is used.

// recovered is a segment file Open found.
type recovered struct {
	g        *segment
	headerOK bool // its header verified and names its file's id
	records  int  // records indexed from it
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
// hint file. It removes temporary files, which no complete write leaves.
func (s *Store) sortFiles(names []string) ([]uint64, map[uint64]bool) {
	var ids []uint64
	hints := make(map[uint64]bool)
	s.nextID.Store(1)
	for _, name := range names {
		if strings.HasSuffix(name, tmpExt) {
			s.fs.Remove(filepath.Join(s.dir, name))
			continue
		}
		id, ext, ok := parseName(name)
		if !ok {
			continue
		}
		s.nextID.Store(max(s.nextID.Load(), id+1))
		if ext == segmentExt {
			ids = append(ids, id)
		} else {
			hints[id] = true
		}
	}
	slices.Sort(ids)
	return ids, hints
}

// openSegments opens the segment files and reads their headers. A header
// that does not verify is no reason to give up the records behind it; one
// from a newer format is.
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
	return &recovered{g: g, headerOK: ok}, nil
}

// load indexes the records of r.
func (s *Store) load(r *recovered, hasHint, isTail bool) error {
	recs, err := s.records(r.g, hasHint, isTail)
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

// records returns the records of g: from its hint file if that checks out,
// from a scan otherwise.
func (s *Store) records(g *segment, hasHint, isTail bool) ([]scanned, error) {
	if hasHint {
		recs, err := readHint(s.fs, s.dir, g)
		if err == nil {
			g.hinted.Store(true)
			s.stats.hinted.Add(1)
			return recs, nil
		}
		if errors.Is(err, ErrVersion) {
			return nil, fmt.Errorf("disk: hint file of segment %d: %w", g.id, err)
		}
	}
	res, err := scanSegment(g.file, g.size.Load())
	if err != nil {
		return nil, ioError(err, "scanning segment %d", g.id)
	}
	s.stats.skippedRegions.Add(int64(res.skipped))
	s.stats.skipped.Add(res.skippedBytes)
	if isTail {
		return s.cutTornTail(g, res)
	}
	return res.recs, nil
}

// cutTornTail truncates tail segment g after its last record whose value
// verifies, and returns the records before the cut.
func (s *Store) cutTornTail(g *segment, res scanResult) ([]scanned, error) {
	keep := len(res.recs)
	for ; keep > 0; keep-- {
		ok, err := valueOK(g.file, &res.recs[keep-1])
		if err != nil {
			return nil, ioError(err, "verifying the tail of segment %d", g.id)
		}
		if ok {
			break
		}
	}
	cut := res.end
	if keep < len(res.recs) {
		cut = res.recs[keep].off
	}
	for _, rec := range res.recs[keep:] {
		s.log.seq = max(s.log.seq, rec.h.seq+1) // never reuse a number a cut record had
	}
	if size := g.size.Load(); cut < size {
		if err := g.file.Truncate(cut); err != nil {
			return nil, ioError(err, "truncating the torn tail of segment %d", g.id)
		}
		g.size.Store(cut)
		g.dirty.Store(true)
		s.stats.truncated.Add(size - cut)
	}
	return res.recs[:keep], nil
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
	reuse := tail != nil && tail.headerOK && tail.g.size.Load() < s.opts.SegmentSize
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
		s.reopenTail(tail.g)
		return nil
	}
	s.log.Lock()
	defer s.log.Unlock()
	id := s.nextID.Add(1) - 1
	g, err := s.createSegment(id, 0, fileName(s.dir, id, segmentExt))
	if err != nil {
		return err
	}
	s.segs.add(g)
	s.setActiveLocked(g)
	return nil
}

// reopenTail makes g, sealed by a clean Close, the active segment again. Its
// hint file goes, since appends will outdate it.
func (s *Store) reopenTail(g *segment) {
	if g.hinted.Swap(false) {
		s.fs.Remove(fileName(s.dir, g.id, hintExt))
	}
	s.setActiveLocked(g)
}
