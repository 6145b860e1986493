package disk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/tiermem/tiermem/internal/vfs"
	"github.com/tiermem/tiermem/tier"
)

// A segment file starts with a fixed header; records follow back to back.
// All integers are little-endian.
//
//	off size field
//	  0    8 magic "\x89TMCOLD\n"
//	  8    2 format version: formatVersion
//	 10    2 minimum reader version: a reader older than this refuses the file
//	 12    4 flags: flagCompacted, flagSealed
//	 16    8 segment id, the number in the file name
//	 24    4 records: the segment's record count if flagSealed, else zero
//	 28    4 checksum: low 32 bits of XXH3-64(bytes 0..28)
const (
	segmentHeaderSize = 32 // four 8-byte words

	formatVersion    = 2 // what this package writes: 1 and flagSealed
	minReaderVersion = 1 // the oldest reader that can read what this package writes
	readerVersion    = 2 // the newest format this package reads

	// flagCompacted marks a segment written by compaction: it was synced
	// before it got its name, so it has no torn tail and never takes appends.
	flagCompacted = 1 << 0

	// flagSealed marks a segment whose header holds its record count,
	// written once the segment was whole (and, but under SyncNone,
	// synced): when it got its hint file, or, for compaction's and
	// Repair's segments, before it got its name. Such a segment that holds
	// fewer records was cut, even on a record boundary, which nothing else
	// tells once its hint file is gone: Open fails with a *CorruptError
	// rather than let older records stand for the lost ones. A format 1
	// reader ignores it.
	flagSealed = 1 << 1
)

const segmentMagic = "\x89TMCOLD\n"

// errBadSegmentHeader is wrapped by decodeSegmentHeader for a header that
// does not verify; the records after it may still be good.
var errBadSegmentHeader = errors.New("disk: bad segment header")

// segmentHeader is a decoded segment header.
type segmentHeader struct {
	version, minReader uint16
	flags              uint32
	id                 uint64
	records            uint32 // if flags has flagSealed
}

// sealedRecords returns the record count h was sealed with, or -1.
func (h segmentHeader) sealedRecords() int64 {
	if h.flags&flagSealed == 0 {
		return -1
	}
	return int64(h.records)
}

func (h segmentHeader) encode() []byte {
	b := make([]byte, segmentHeaderSize)
	copy(b, segmentMagic)
	binary.LittleEndian.PutUint16(b[8:], h.version)
	binary.LittleEndian.PutUint16(b[10:], h.minReader)
	binary.LittleEndian.PutUint32(b[12:], h.flags)
	binary.LittleEndian.PutUint64(b[16:], h.id)
	binary.LittleEndian.PutUint32(b[24:], h.records)
	binary.LittleEndian.PutUint32(b[28:], uint32(sum64(b[:28])))
	return b
}

// decodeSegmentHeader decodes b, the first segmentHeaderSize bytes of a
// segment file. A header that does not verify wraps errBadSegmentHeader; a
// valid one from a newer format than this package reads wraps ErrVersion.
func decodeSegmentHeader(b []byte) (segmentHeader, error) {
	if len(b) < segmentHeaderSize {
		return segmentHeader{}, fmt.Errorf("%w: %d bytes", errBadSegmentHeader, len(b))
	}
	if string(b[:8]) != segmentMagic || binary.LittleEndian.Uint32(b[28:]) != uint32(sum64(b[:28])) {
		return segmentHeader{}, fmt.Errorf("%w: magic or checksum", errBadSegmentHeader)
	}
	h := segmentHeader{
		version:   binary.LittleEndian.Uint16(b[8:]),
		minReader: binary.LittleEndian.Uint16(b[10:]),
		flags:     binary.LittleEndian.Uint32(b[12:]),
		id:        binary.LittleEndian.Uint64(b[16:]),
		records:   binary.LittleEndian.Uint32(b[24:]),
	}
	if h.minReader > readerVersion {
		return h, fmt.Errorf("%w: format %d needs reader version %d, this is %d",
			ErrVersion, h.version, h.minReader, readerVersion)
	}
	return h, nil
}

// segment is one open segment file. Its counters are atomics: the index
// updates them under its shard locks while readers look at them for stats
// and compaction picks.
//
// A segment is reference-counted: the store holds one reference while the
// segment is in the registry, and every read holds one while it reads, so a
// segment that compaction retires stays readable until its last reader is
// done; the last release closes the file (which was already unlinked).
type segment struct {
	id        uint64
	file      vfs.File
	compacted bool // written by compaction; see flagCompacted

	refs       atomic.Int32          // the store's reference plus one per reader
	size       atomic.Int64          // bytes of the segment: header and records, buffered ones included
	written    atomic.Int64          // bytes of it in the file; the rest is in the log's write buffer
	live       atomic.Int64          // bytes of the records the index references
	tombs      atomic.Int64          // tombstones the index references
	appended   atomic.Int64          // records appended since Open: a capacity hint for a scan
	minDeadSeq atomic.Uint64         // lowest sequence number of a dead put in the file; MaxUint64 if none
	dirty      atomic.Bool           // written since it was last synced
	syncMu     sync.Mutex            // held across a sync's look at dirty and its fsync
	syncFailed atomic.Pointer[error] // the first fsync I/O error, returned by every later sync
	sealed     atomic.Bool           // takes no more appends
	hinted     atomic.Bool           // its hint file is written
	retired    atomic.Bool           // compacted away: no longer in the registry

	mapOnce   sync.Once
	mapped    []byte      // the file mapped read-only by mapping; nil until then, or if it cannot be mapped
	mappedSet atomic.Bool // mapped is set: it may be read without mapOnce
}

func newSegment(id uint64, file vfs.File, size int64, compacted bool) *segment {
	g := &segment{id: id, file: file, compacted: compacted}
	g.refs.Store(1)
	g.size.Store(size)
	g.written.Store(size)
	g.minDeadSeq.Store(math.MaxUint64)
	return g
}

// acquire takes a reference. The caller must already hold one, or hold the
// lock of an index shard with an entry that points at g.
func (g *segment) acquire() { g.refs.Add(1) }

// release drops a reference and, after the last one, unmaps and closes
// the file.
func (g *segment) release() {
	if g.refs.Add(-1) == 0 {
		if g.mapped != nil {
			vfs.Unmap(g.mapped)
		}
		g.file.Close()
	}
}

// mapping returns g's file mapped read-only, made at the first call: length
// bytes or the segment's size if larger, so that the active segment's later
// records fall inside it too (the mapping sees them as they are written).
// It returns nil if the file cannot be mapped; reads then use pread. The
// caller must hold a reference, and read only bytes below g.written.
func (g *segment) mapping(length int64) []byte {
	g.mapOnce.Do(func() {
		if m, err := vfs.Map(g.file, max(length, g.size.Load())); err == nil {
			g.mapped = m
			g.mappedSet.Store(true)
		}
	})
	return g.mapped
}

// releasePages drops the pages of g's mapping, if it has one, from the
// process. The caller must hold a reference.
func (g *segment) releasePages() {
	if g.mappedSet.Load() {
		vfs.Release(g.mapped) // advice: an error leaves the pages resident, nothing worse
	}
}

// dead returns the bytes of g's records that nothing references.
func (g *segment) dead() int64 {
	return g.size.Load() - segmentHeaderSize - g.live.Load()
}

// reclaimable reports whether compacting g could shrink it: it holds dead
// bytes or tombstones.
func (g *segment) reclaimable() bool { return g.dead() > 0 || g.tombs.Load() > 0 }

// deadFraction returns dead bytes over record bytes, 0 for an empty segment.
func (g *segment) deadFraction() float64 {
	records := g.size.Load() - segmentHeaderSize
	if records <= 0 {
		return 0
	}
	return float64(g.dead()) / float64(records)
}

// noteDeadPut records that a put with sequence number seq in g is dead.
func (g *segment) noteDeadPut(seq uint64) {
	for {
		cur := g.minDeadSeq.Load()
		if seq >= cur || g.minDeadSeq.CompareAndSwap(cur, seq) {
			return
		}
	}
}

// headerFor returns the header of segment id, sealed with records if that
// is not negative and fits the header's 32 bits.
func headerFor(id uint64, compacted bool, records int) segmentHeader {
	h := segmentHeader{version: formatVersion, minReader: minReaderVersion, id: id}
	if compacted {
		h.flags |= flagCompacted
	}
	if records >= 0 && records <= math.MaxUint32 {
		h.flags |= flagSealed
		h.records = uint32(records)
	}
	return h
}

// writeHeader writes g's header again, sealed with its record count if
// records is not negative (see flagSealed), unsealed otherwise. A count
// past the header's 32 bits leaves it unsealed. g must take no append
// while it is sealed; the caller syncs it.
func (g *segment) writeHeader(records int) error {
	g.dirty.Store(true)
	if _, err := g.file.WriteAt(headerFor(g.id, g.compacted, records).encode(), 0); err != nil {
		return ioError(err, "writing the header of segment %d", g.id)
	}
	return nil
}

// sync makes g's data durable if it was written since its last sync. A
// sync that finds another's fsync in flight waits for it: dirty is cleared
// before an fsync begins, so that writes during it mark the segment again,
// and a sync that saw it clear while the fsync was still running would
// return before the data it was asked to cover was durable.
func (g *segment) sync(fsyncs *atomic.Int64) error {
	g.syncMu.Lock()
	defer g.syncMu.Unlock()
	if failed := g.syncFailed.Load(); failed != nil {
		return *failed
	}
	if !g.dirty.Swap(false) {
		return nil
	}
	fsyncs.Add(1)
	if err := g.file.Sync(); err != nil {
		g.dirty.Store(true)
		err = ioError(err, "syncing segment %d", g.id)
		if !errors.Is(err, tier.ErrNoSpace) {
			// A full disk can be retried once space returns; after an I/O
			// error a clean retry proves nothing (see ErrSyncFailed).
			sticky := fmt.Errorf("%w: segment %d: %w", ErrSyncFailed, g.id, err)
			g.syncFailed.Store(&sticky)
			return sticky
		}
		return err
	}
	return nil
}
