package disk

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/tiermem/tiermem/internal/vfs"
	"github.com/tiermem/tiermem/tier"
)

// A streamed put writes a value of any size with bounded memory, in two
// steps, so that a slow stream never holds the log:
//
//   - Stage reads the value from an io.Reader into a file of the store's
//     directory (a *.tmp name, which Open removes after a crash), checksumming
//     it as it comes, through one buffer of stageBuf bytes. It holds no lock
//     and does not keep Close waiting while it reads.
//   - PutStaged appends the staged value as a key's record under the log
//     lock: the record header with the checksum, then the bytes copied from
//     the file, checksummed again on the way (a staged file damaged in
//     between fails the put and leaves the log as it was). The record is
//     an ordinary put record, stored raw (not compressed), so reads,
//     recovery, hints and compaction treat it as any other.
//
// Other writers wait while PutStaged copies (the log is one append stream):
// for a 1 GiB value, the time the disk takes to copy 1 GiB.

// stageBuf is the buffer a stage and a staged put copy through.
const stageBuf = 1 << 20

var stageBufs = sync.Pool{New: func() any { b := make([]byte, stageBuf); return &b }}

// stageSeq numbers the staged files of this process.
var stageSeq atomic.Uint64

// Staged is a value read by Stage into a file of the store's directory,
// not yet under a key. Its methods are safe for concurrent use with the
// store's; one Staged is used by one goroutine. The zero value is not
// usable: Stage makes one.
type Staged struct {
	fs   vfs.FS
	name string
	f    vfs.File
	size int64
	sum  uint64 // XXH3-64 of the bytes
	mu   sync.Mutex
	gone bool // Discard ran
}

// Size returns the staged value's length.
func (st *Staged) Size() int64 { return st.size }

// Stage reads exactly size bytes from r into a new file in the store's
// directory, for PutStaged. It returns an error wrapping
// io.ErrUnexpectedEOF when r ends before size bytes, r's own error when a
// read fails, tier.ErrTooLarge for a negative or impossible size,
// tier.ErrNoSpace when the disk is full, and tier.ErrClosed if the store
// is closed when Stage begins; on any error nothing is left on disk. It
// does not read past size bytes. The caller must Discard the result.
func (s *Store) Stage(r io.Reader, size int64) (*Staged, error) {
	if size < 0 || size > maxValueLen {
		return nil, fmt.Errorf("disk: staging %d bytes: %w", size, tier.ErrTooLarge)
	}
	st, err := s.createStaged(size)
	if err != nil {
		return nil, err
	}
	if err := st.fill(r); err != nil {
		st.Discard()
		return nil, err
	}
	return st, nil
}

// StageAll is Stage for a stream whose length is not known ahead: it reads
// r to its end, and the Staged's Size is what it read. A stream longer
// than the longest value a record holds fails with an error wrapping
// tier.ErrTooLarge; its other errors are Stage's.
func (s *Store) StageAll(r io.Reader) (*Staged, error) {
	st, err := s.createStaged(-1)
	if err != nil {
		return nil, err
	}
	if err := st.fill(r); err != nil {
		st.Discard()
		return nil, err
	}
	return st, nil
}

// Reader returns a reader of the staged value's bytes, from the first.
func (st *Staged) Reader() io.Reader { return io.NewSectionReader(st.f, 0, st.size) }

// createStaged creates the staged file, inside the store's gate (so that
// no file is made in the directory of a closed store).
func (s *Store) createStaged(size int64) (*Staged, error) {
	tok, ok := s.gate.Enter()
	if !ok {
		return nil, errClosed
	}
	defer s.gate.Leave(tok)
	name := filepath.Join(s.dir, "stage-"+strconv.FormatUint(stageSeq.Add(1), 10)+tmpExt)
	f, err := s.fs.Create(name)
	if err != nil {
		return nil, ioError(err, "creating %s", filepath.Base(name))
	}
	return &Staged{fs: s.fs, name: name, f: f, size: size}, nil
}

// fill copies the value from r into the file, checksumming it: st.size
// bytes, or, when st.size is negative, r to its end (st.size is then what
// it read).
func (st *Staged) fill(r io.Reader) error {
	bp := stageBufs.Get().(*[]byte)
	defer stageBufs.Put(bp)
	d := newDigest()
	unsized := st.size < 0
	var off int64
	for unsized || off < st.size {
		buf := *bp
		if !unsized {
			buf = buf[:min(int64(len(buf)), st.size-off)]
		}
		n, err := readFull(r, buf)
		if unsized && int64(n) > maxValueLen-off {
			return fmt.Errorf("disk: staging a value: over %d bytes: %w", int64(maxValueLen), tier.ErrTooLarge)
		}
		if n > 0 {
			d.Write(buf[:n])
			if _, werr := st.f.WriteAt(buf[:n], off); werr != nil {
				return ioError(werr, "writing %s", filepath.Base(st.name))
			}
			off += int64(n)
		}
		switch {
		case err == nil, !unsized && off == st.size: // every byte read: what r says after them does not matter
		case unsized && err == io.EOF: // only the stream's own end: a reader's io.ErrUnexpectedEOF is its failure
			st.size, unsized = off, false
		case unsized && errors.Is(err, io.ErrUnexpectedEOF):
			return fmt.Errorf("disk: staging a value: the stream was cut after %d bytes: %w", off, err)
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return fmt.Errorf("disk: staging a value: the stream ended after %d of %d bytes: %w", off, st.size, io.ErrUnexpectedEOF)
		case err != nil:
			return fmt.Errorf("disk: staging a value: reading after %d bytes: %w", off, err)
		}
	}
	st.sum = d.Sum64()
	return nil
}

// readFull reads into buf until it is full, r ends (io.EOF) or r fails; it
// returns r's error as r returned it, unlike io.ReadFull, which turns an
// end after some bytes into io.ErrUnexpectedEOF: a stream of unknown
// length must tell its end from a reader's io.ErrUnexpectedEOF (an HTTP
// body cut in the middle of a chunk).
func readFull(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Discard closes and removes the staged file. It may be called more than
// once, and after PutStaged (which copies the bytes: the file is no longer
// needed then).
func (st *Staged) Discard() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.gone {
		return nil
	}
	st.gone = true
	return errors.Join(st.f.Close(), st.fs.Remove(st.name))
}

// PutStaged stores st's bytes under key with meta, as Put stores a value
// (replacing any earlier one, durable as the sync mode says), and returns
// the bytes the record occupies: exactly Cost of its sizes, the value being
// stored raw. It fails with tier.ErrCorrupt, storing nothing, if the
// staged file no longer matches the checksum Stage took, and with
// tier.ErrClosed after Close. st stays the caller's to Discard.
func (s *Store) PutStaged(key string, st *Staged, meta []byte) (int64, error) {
	tok, err := s.beginPut(key, meta)
	if err != nil {
		return 0, err
	}
	defer s.gate.Leave(tok)
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.gone {
		return 0, fmt.Errorf("disk: PutStaged of %q: the staged value was discarded", key)
	}
	w := &write{kind: kindPut, key: key, raw: st.size, codec: codecRaw, sum: st.sum,
		size: int64(recordHeaderSize+len(key)+len(meta)) + st.size}
	if len(meta) > 0 {
		w.meta = append([]byte(nil), meta...)
	}
	s.log.Lock()
	defer s.log.Unlock()
	if err := s.appendCopiedLocked(w, stagedSource(st)); err != nil {
		return 0, err
	}
	return w.size, nil
}

// copySource is where a record appended by appendCopiedLocked takes its
// value from: size bytes read with readAt, whose XXH3-64 must be sum
// (mismatch makes the error when it is not).
type copySource struct {
	size     int64
	sum      uint64
	readAt   func(p []byte, off int64) error
	mismatch func() error
}

// stagedSource is the copySource of st's file.
func stagedSource(st *Staged) copySource {
	return copySource{
		size: st.size,
		sum:  st.sum,
		readAt: func(p []byte, off int64) error {
			if _, err := st.f.ReadAt(p, off); err != nil {
				return fmt.Errorf("reading %s: %w", filepath.Base(st.name), err)
			}
			return nil
		},
		mismatch: func() error {
			return fmt.Errorf("disk: the staged file %s no longer matches its checksum: %w", filepath.Base(st.name), tier.ErrCorrupt)
		},
	}
}

// appendCopiedLocked appends w, whose value is src's bytes, to the active
// segment (a new one if it does not fit), syncs it under SyncAlways and
// indexes it; on failure it cuts the segment back and indexes nothing.
func (s *Store) appendCopiedLocked(w *write, src copySource) error {
	if s.log.active == nil || s.log.active.size.Load() > segmentHeaderSize && w.size > s.opts.SegmentSize-s.log.active.size.Load() {
		if err := s.rotateLocked(); err != nil {
			return err
		}
	}
	g := s.log.active
	start := g.size.Load()
	w.seq, w.off = s.log.seq, s.log.app.end()
	s.log.seq++
	err := s.copyLocked(w, src)
	if err == nil && s.syncMode() == SyncAlways {
		err = s.writeAndSyncLocked(g)
	}
	if err != nil {
		s.undoLocked(g, start)
		if errors.Is(err, tier.ErrCorrupt) {
			return err
		}
		return ioError(err, "appending a copied record of %d bytes to segment %d at %d", w.size, g.id, start)
	}
	g.size.Store(s.log.app.end())
	g.appended.Add(1)
	s.stats.commits.Add(1)
	s.stats.writes.Add(1)
	w.replaced, w.replacedLive = s.index.apply(w.key, w.entry(g))
	return nil
}

// copyLocked appends w's header, key and meta, then src's bytes through one
// buffer of stageBuf bytes, verifying them against src's checksum.
func (s *Store) copyLocked(w *write, src copySource) error {
	a := &s.log.app
	h := w.header()
	h.stored = uint64(src.size) // w.value is src's, not in memory
	a.buf = appendHead(a.buf, h, w.key, w.meta)
	if err := a.flushAligned(); err != nil {
		return err
	}
	bp := stageBufs.Get().(*[]byte)
	defer stageBufs.Put(bp)
	d := newDigest()
	for off := int64(0); off < src.size; {
		buf := (*bp)[:min(int64(len(*bp)), src.size-off)]
		if err := src.readAt(buf, off); err != nil {
			return err
		}
		d.Write(buf)
		if err := a.write(buf); err != nil { // a.write keeps no reference to buf
			return err
		}
		off += int64(len(buf))
	}
	if d.Sum64() != src.sum {
		return src.mismatch()
	}
	return nil
}
