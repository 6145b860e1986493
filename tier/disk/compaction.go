package disk

import (
	"errors"
	"fmt"
)

// Compaction rewrites the records that the index still references from
// some sealed segments (the inputs) into new segments (the outputs), then
// retires the inputs. Records are copied byte for byte, sequence numbers
// and checksums included, so a corrupt record stays corrupt rather than
// turning into an older value. The outputs are synced, hinted and renamed
// into place before the index points at them and before any input is
// removed, so a crash at any point leaves every record on disk at least
// once.
//
// A tombstone is copied while it may still shadow a put: it is dropped
// only when no segment that outlives its own holds a dead put with a lower
// sequence number (each segment tracks the lowest one it holds). Inputs are
// removed one at a time in id order, each removal synced, so the segments
// that outlive input i are the ones outside the compaction and inputs i+1
// on. A tombstone that a newer put has superseded is dead like any record.

// errStopped aborts a background compaction when the store closes.
var errStopped = errors.New("disk: compaction stopped by Close")

type compaction struct {
	s       *Store
	inputs  []*segment
	cur     *output   // the output being written; nil between outputs
	done    []*output // outputs synced, hinted and named
	drops   []drop    // tombstones left behind
	buf     []byte    // copy buffer
	minDead uint64    // lowest dead put sequence number outliving the input being copied
}

// output is one segment a compaction writes, under a temporary name until
// it is complete.
type output struct {
	g     *segment
	tmp   string
	app   appender
	recs  []scanned // its records, for the hint file
	moves []move
}

// move is a record copied from one segment to another.
type move struct {
	key     string
	from    *segment
	fromOff int64
	toOff   int64
	seq     uint64
	put     bool
}

// drop is a tombstone compaction left behind.
type drop struct {
	key string
	g   *segment
	off int64
}

// Compact seals the active segment if it holds dead bytes or tombstones,
// then compacts every sealed segment that holds either, whatever the
// threshold. It returns when the old segments are gone from disk.
func (s *Store) Compact() error {
	tok, ok := s.gate.Enter()
	if !ok {
		return errClosed
	}
	defer s.gate.Leave(tok)
	if err := s.sealActive(); err != nil {
		return fmt.Errorf("disk: compacting: %w", err)
	}
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	inputs := s.compactionInputs((*segment).reclaimable)
	defer releaseAll(inputs)
	if len(inputs) == 0 {
		return nil
	}
	return s.compactLocked(inputs)
}

// compactionInputs returns, each with a reference, the sealed segments for
// which due is true, plus the small sealed segments (under a quarter of
// SegmentSize) when there are two or more of them, so that the small
// segments compaction and Compact leave behind are merged.
func (s *Store) compactionInputs(due func(*segment) bool) []*segment {
	sealed := s.segs.pick(func(g *segment) bool { return g.sealed.Load() })
	small := func(g *segment) bool { return g.size.Load() < s.opts.SegmentSize/4 }
	smalls := 0
	for _, g := range sealed {
		if small(g) {
			smalls++
		}
	}
	var inputs []*segment
	for _, g := range sealed {
		if due(g) || (smalls >= 2 && small(g)) {
			inputs = append(inputs, g)
		} else {
			g.release()
		}
	}
	return inputs
}

// compactLocked compacts inputs. The caller holds compactMu.
func (s *Store) compactLocked(inputs []*segment) error {
	c := &compaction{s: s, inputs: inputs}
	err := c.run()
	if err == nil {
		// The records that made the inputs' records dead may not be durable
		// yet (in the write buffer, under SyncNone or SyncEvery): retiring
		// the inputs first, a crash would lose the key's value altogether,
		// the old one and the new.
		err = s.syncAll()
	}
	if err != nil {
		c.abort()
		return err
	}
	c.install()
	return nil
}

func (c *compaction) run() error {
	for i, in := range c.inputs {
		c.minDead = c.s.segs.minDeadSeqExcept(c.inputs[:i+1])
		if err := c.copyLive(in); err != nil {
			return err
		}
	}
	if err := c.finishOutput(); err != nil {
		return err
	}
	if err := c.s.fs.SyncDir(c.s.dir); err != nil {
		return fmt.Errorf("disk: compacting: syncing %s: %w", c.s.dir, err)
	}
	return nil
}

// copyLive copies the records of in that the index still references.
func (c *compaction) copyLive(in *segment) error {
	res, err := c.s.scanClean(in)
	if err != nil {
		return err
	}
	for i := range res.recs {
		if c.s.stopping() {
			return errStopped
		}
		if err := c.consider(in, &res.recs[i]); err != nil {
			return err
		}
	}
	return nil
}

// consider copies rec, found in in, if it is live, and notes a tombstone
// it may leave behind.
func (c *compaction) consider(in *segment, rec *scanned) error {
	key := string(rec.key())
	e, ok := c.s.index.get(key)
	if !ok || e.seg != in || e.off != rec.off {
		return nil // dead
	}
	if e.tomb && e.seq < c.minDead {
		c.drops = append(c.drops, drop{key, in, rec.off})
		return nil
	}
	return c.copy(key, in, rec)
}

// copy appends rec, from in, to the current output.
func (c *compaction) copy(key string, in *segment, rec *scanned) error {
	out, err := c.outputFor(rec.h.size())
	if err != nil {
		return err
	}
	toOff := out.app.end()
	if err := c.copyBytes(&out.app, in, rec.off, rec.h.size()); err != nil {
		return err
	}
	out.recs = append(out.recs, scanned{off: toOff, h: rec.h, head: rec.head})
	out.moves = append(out.moves, move{key, in, rec.off, toOff, rec.h.seq, rec.h.kind == kindPut})
	return nil
}

// copyBytes appends n bytes at off in in to app, a piece at a time.
func (c *compaction) copyBytes(app *appender, in *segment, off, n int64) error {
	if c.buf == nil {
		c.buf = make([]byte, 1<<20)
	}
	for n > 0 {
		p := c.buf[:min(n, int64(len(c.buf)))]
		if _, err := in.file.ReadAt(p, off); err != nil {
			return ioError(err, "compacting: reading segment %d at %d", in.id, off)
		}
		if err := app.write(p); err != nil {
			return ioError(err, "compacting: writing segment %d", app.g.id)
		}
		off, n = off+int64(len(p)), n-int64(len(p))
	}
	return nil
}

// outputFor returns the output a record of size bytes goes to, finishing
// a full one and starting the next.
func (c *compaction) outputFor(size int64) (*output, error) {
	if c.cur != nil && !c.cur.full(size, c.s.opts.SegmentSize) {
		return c.cur, nil
	}
	if err := c.finishOutput(); err != nil {
		return nil, err
	}
	id := c.s.nextID.Add(1) - 1
	tmp := fileName(c.s.dir, id, segmentExt) + tmpExt
	g, err := c.s.createSegment(id, true, tmp)
	if err != nil {
		return nil, fmt.Errorf("compacting: %w", err)
	}
	c.cur = &output{g: g, tmp: tmp}
	c.cur.app.reset(g, segmentHeaderSize)
	return c.cur, nil
}

// full reports whether a record of size bytes no longer fits o.
func (o *output) full(size, segmentSize int64) bool {
	end := o.app.end()
	return end > segmentHeaderSize && end+size > segmentSize
}

// finishOutput seals the current output, makes it durable, writes its hint
// and gives it its name.
func (c *compaction) finishOutput() error {
	out := c.cur
	if out == nil {
		return nil
	}
	g := out.g
	if err := out.app.flush(); err != nil {
		return ioError(err, "compacting: writing segment %d", g.id)
	}
	g.size.Store(out.app.end())
	if err := g.writeHeader(len(out.recs)); err != nil {
		return fmt.Errorf("compacting: %w", err)
	}
	if err := g.sync(&c.s.stats.fsyncs); err != nil {
		return fmt.Errorf("compacting: %w", err)
	}
	if err := writeHint(c.s.fs, c.s.dir, g, out.recs, true); err != nil {
		return err
	}
	if err := c.s.fs.Rename(out.tmp, fileName(c.s.dir, g.id, segmentExt)); err != nil {
		return ioError(err, "compacting: naming segment %d", g.id)
	}
	g.hinted.Store(true)
	g.sealed.Store(true)
	c.cur, c.done = nil, append(c.done, out)
	return nil
}

// abort removes every output of a failed compaction, finished or not. The
// inputs and the index are untouched.
func (c *compaction) abort() {
	if c.cur != nil {
		c.s.fs.Remove(c.cur.tmp)
		c.discard(c.cur)
	}
	for _, out := range c.done {
		c.s.fs.Remove(fileName(c.s.dir, out.g.id, segmentExt))
		c.discard(out)
	}
}

func (c *compaction) discard(out *output) {
	c.s.fs.Remove(fileName(c.s.dir, out.g.id, hintExt))
	out.g.release()
}

// install points the index at the copies, drops the tombstones left
// behind and retires the inputs.
func (c *compaction) install() {
	s := c.s
	var before, after int64
	for _, out := range c.done {
		s.segs.add(out.g)
		after += out.g.size.Load()
		for _, m := range out.moves {
			if !s.index.relocate(m.key, m.from, m.fromOff, out.g, m.toOff) && m.put {
				out.g.noteDeadPut(m.seq)
			}
		}
	}
	for _, d := range c.drops {
		s.index.dropTombstone(d.key, d.g, d.off)
	}
	for _, in := range c.inputs {
		before += in.size.Load()
		s.retire(in)
		if s.fs.SyncDir(s.dir) != nil {
			// The removal may not be durable: removing a later input,
			// which may hold the tombstone that shadowed a put in this
			// one, could outlive it in a crash and bring the put back.
			// The rest stay, dead, for the next compaction, whose first
			// directory sync (in run) makes this removal durable.
			s.stats.backgroundErrors.Add(1)
			break
		}
	}
	s.stats.compactions.Add(1)
	s.stats.reclaimed.Add(before - after)
}

// retire removes compacted segment g: from the registry, then its files.
// Readers that hold it finish on the open file; the last closes it.
func (s *Store) retire(g *segment) {
	s.segs.remove(g)
	s.fs.Remove(fileName(s.dir, g.id, segmentExt))
	s.fs.Remove(fileName(s.dir, g.id, hintExt))
	g.release()
}
