package disk

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"sync"

	"github.com/tiermem/tiermem/internal/vfs"
)

// The commit pipeline appends records with group commit. A writer queues
// its write; if no leader is at work it becomes the leader, otherwise it
// waits on its write's ready channel. The leader takes the log lock and the
// whole queue, appends it to the active segment's write buffer (values of
// 64 KiB and more are written straight from the caller's memory), under
// SyncAlways writes the buffer and fsyncs once, applies the batch to the
// index, then wakes every writer of the batch at once and hands the lead to
// the first write queued meanwhile. So N concurrent SyncAlways writers
// share about one write and one fsync per batch.
//
// A failed write or fsync cuts the segment back to where the batch began
// and fails the whole batch: nothing of it is acknowledged or indexed, the
// acknowledged records still in the buffer stay there (readable, written
// by the next flush), and the next batch starts at the same offset.

// write is one Put or Delete on its way through the pipeline.
type write struct {
	kind  kind
	key   string // the caller's, read only until commit returns (the index copies it)
	meta  []byte // the index's own copy
	value []byte // stored bytes: the caller's value or a compressed copy
	raw   int64
	codec codec
	sum   uint64
	size  int64  // record bytes
	ifSeq uint64 // SetMeta's: commit only if the key's record has this sequence number (0: always)

	ready chan struct{} // one signal when done, or when this write is to lead; reused with the write

	// Set by the leader before it signals ready.
	seq          uint64
	off          int64
	done         bool
	err          error
	replaced     entry // the live put this write replaced, if replacedLive
	replacedLive bool
}

func (w *write) header() header {
	return header{kind: w.kind, codec: w.codec, seq: w.seq, stored: uint64(len(w.value)), raw: uint64(w.raw), sum: w.sum}
}

func (w *write) entry(g *segment) entry {
	e := entry{seg: g, off: w.off, size: w.size, seq: w.seq, sum: w.sum, raw: w.raw,
		codec: w.codec, tomb: w.kind == kindDelete}
	e.setMeta(w.meta)
	return e
}

// writes keeps writes for reuse: a put takes one and its ready channel,
// and gives them back when it returns.
var writes = sync.Pool{New: func() any { return &write{ready: make(chan struct{}, 1)} }}

// newWrite returns a zero write with its ready channel.
func newWrite() *write {
	w := writes.Get().(*write)
	*w = write{ready: w.ready}
	return w
}

// free gives w back for reuse once its writer has read the outcome: no
// one refers to it any longer (the leader signals a write last).
func (w *write) free() {
	*w = write{ready: w.ready}
	writes.Put(w)
}

// commit appends w and returns when it is done: written, synced as the
// sync mode asks, and in the index.
func (s *Store) commit(w *write) error {
	s.queue.Lock()
	s.queue.writes = append(s.queue.writes, w)
	lead := !s.queue.leading
	s.queue.leading = true
	s.queue.Unlock()
	if !lead {
		<-w.ready
		if w.done {
			return w.err
		}
	}
	s.lead(w)
	return w.err
}

// lead commits the queue, w's write among it, wakes the writers it
// committed, and hands the lead to the first write queued meanwhile.
func (s *Store) lead(w *write) {
	s.log.Lock()
	batch := s.takeQueue()
	s.commitLocked(batch)
	s.log.Unlock()
	for _, x := range batch {
		if x != w {
			x.ready <- struct{}{}
		}
	}
	s.queue.Lock()
	defer s.queue.Unlock()
	if len(s.queue.writes) > 0 {
		s.queue.writes[0].ready <- struct{}{} // not done: it leads next
		return
	}
	s.queue.leading = false
}

// takeQueue returns the queued writes and empties the queue.
func (s *Store) takeQueue() []*write {
	s.queue.Lock()
	defer s.queue.Unlock()
	batch := s.queue.writes
	clear(s.queue.spare)
	s.queue.writes, s.queue.spare = s.queue.spare[:0], batch
	return batch
}

// commitLocked appends batch, in runs that fit the active segment, rotating
// between runs.
func (s *Store) commitLocked(batch []*write) {
	batch = s.staleLocked(batch)
	for len(batch) > 0 {
		n := s.fitLocked(batch)
		if n == 0 {
			if err := s.rotateLocked(); err != nil {
				finish(batch, err)
				return
			}
			continue
		}
		s.appendRunLocked(batch[:n])
		batch = batch[n:]
	}
}

// fitLocked returns how many writes from the start of batch fit in the
// active segment; an empty segment takes at least one, however large, and
// no active segment (a store opened on a full disk) none.
func (s *Store) fitLocked(batch []*write) int {
	if s.log.active == nil {
		return 0
	}
	used := s.log.active.size.Load()
	room := s.opts.SegmentSize - used
	for i, w := range batch {
		if w.size > room && (i > 0 || used > segmentHeaderSize) {
			return i
		}
		room -= w.size
	}
	return len(batch)
}

// appendRunLocked appends run to the active segment's write buffer (and
// through it to the file), flushes and syncs it under SyncAlways, and
// applies it to the index.
func (s *Store) appendRunLocked(run []*write) {
	g := s.log.active
	start := g.size.Load()
	err := s.bufferRunLocked(run)
	if err == nil && s.syncMode() == SyncAlways {
		err = s.writeAndSyncLocked(g)
	}
	if err != nil {
		s.undoLocked(g, start)
		finish(run, ioError(err, "appending %d records to segment %d at %d", len(run), g.id, start))
		return
	}
	g.size.Store(s.log.app.end())
	g.appended.Add(int64(len(run)))
	s.stats.commits.Add(1)
	s.stats.writes.Add(int64(len(run)))
	for _, w := range run {
		w.replaced, w.replacedLive = s.index.apply(w.key, w.entry(g))
	}
	finish(run, nil)
}

// bufferRunLocked numbers the writes of run and appends them.
func (s *Store) bufferRunLocked(run []*write) error {
	a := &s.log.app
	for _, w := range run {
		w.seq, w.off = s.log.seq, a.end()
		s.log.seq++
		a.buf = appendHead(a.buf, w.header(), w.key, w.meta)
		if err := a.write(w.value); err != nil {
			return err
		}
	}
	return nil
}

// writeAndSyncLocked writes the buffer and fsyncs the directory, if a
// segment was created, and g.
func (s *Store) writeAndSyncLocked(g *segment) error {
	if err := s.log.app.flush(); err != nil {
		return err
	}
	if err := s.syncDir(); err != nil {
		return err
	}
	return g.sync(&s.stats.fsyncs)
}

// undoLocked cuts the active segment g back to start after a failed run:
// the run leaves the buffer, the file loses whatever a partial write added
// past what was fully written. Records before start that were still
// buffered stay buffered, readable and acknowledged. If the truncate fails
// too, the next write overwrites those bytes, and Open treats anything
// left past the last record as a torn tail.
func (s *Store) undoLocked(g *segment, start int64) {
	a := &s.log.app
	if a.off > start {
		a.off, a.buf = start, a.buf[:0]
		g.written.Store(start)
	} else {
		a.buf = a.buf[:start-a.off]
	}
	g.size.Store(start)
	if err := g.file.Truncate(a.off); err != nil {
		s.stats.backgroundErrors.Add(1)
	}
}

// flushLog writes the active segment's buffered records to the file.
func (s *Store) flushLog() error {
	s.log.Lock()
	defer s.log.Unlock()
	return s.flushLocked()
}

// flushLocked writes the buffered records; on failure they stay buffered
// and the file is cut back to what was fully written.
func (s *Store) flushLocked() error {
	a := &s.log.app
	if err := a.flush(); err != nil {
		s.undoLocked(a.g, a.end())
		return ioError(err, "writing segment %d at %d", a.g.id, a.off)
	}
	return nil
}

// finish marks every write of ws done with err.
func finish(ws []*write, err error) {
	for _, w := range ws {
		w.err, w.done = err, true
	}
}

// rotateLocked seals the active segment and starts a new one. The sealed
// segment gets its hint file in the background. A store without an active
// segment (opened on a full disk) gets its first one.
func (s *Store) rotateLocked() error {
	if err := s.flushLocked(); err != nil {
		return err
	}
	id := s.nextID.Add(1) - 1
	g, err := s.createSegment(id, false, fileName(s.dir, id, segmentExt))
	if err != nil {
		return err
	}
	s.segs.add(g)
	old := s.log.active
	s.setActiveLocked(g)
	if old != nil {
		old.sealed.Store(true)
		s.queueHint(old)
	}
	return nil
}

// createSegment creates segment file name with an unsealed header for id,
// flagged compacted if compacted.
func (s *Store) createSegment(id uint64, compacted bool, name string) (*segment, error) {
	f, err := s.createSegmentFile(id, name)
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteAt(headerFor(id, compacted, -1).encode(), 0); err != nil {
		f.Close()
		s.fs.Remove(name)
		return nil, ioError(err, "writing the header of segment %d", id)
	}
	s.dirDirty.Store(true)
	g := newSegment(id, f, segmentHeaderSize, compacted)
	g.dirty.Store(true)
	return g, nil
}

// createSegmentFile creates name, the file of new segment id (its own
// name or a temporary one). It fails, wrapping ErrNoSegmentID, if id is past
// maxSegmentID or if name or the segment's name is taken: a new segment
// never overwrites a file.
func (s *Store) createSegmentFile(id uint64, name string) (vfs.File, error) {
	if id > maxSegmentID {
		return nil, fmt.Errorf("disk: creating segment %d: %w: ids are used up", id, ErrNoSegmentID)
	}
	var err error
	if final := fileName(s.dir, id, segmentExt); name != final {
		err = checkFree(s.fs, final)
	}
	var f vfs.File
	if err == nil {
		f, err = createNew(s.fs, name)
	}
	if errors.Is(err, iofs.ErrExist) {
		return nil, fmt.Errorf("disk: creating segment %d: %w: %w", id, ErrNoSegmentID, err)
	}
	if err != nil {
		return nil, ioError(err, "creating segment %d", id)
	}
	return f, nil
}

// setActiveLocked makes g the segment appends go to.
func (s *Store) setActiveLocked(g *segment) {
	s.log.active = g
	s.log.app.reset(g, g.size.Load())
}

// sealActive seals the active segment if it holds dead bytes or
// tombstones, so that Compact can reclaim them.
func (s *Store) sealActive() error {
	s.log.Lock()
	defer s.log.Unlock()
	if s.log.active == nil || !s.log.active.reclaimable() {
		return nil
	}
	if err := s.rotateLocked(); err != nil {
		return fmt.Errorf("sealing the active segment: %w", err)
	}
	return nil
}
