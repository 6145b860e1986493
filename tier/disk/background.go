package disk

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/tiermem/tiermem/tier"
)

// background is the work a Store does besides its callers' operations: hint
// files for sealed segments, compaction of segments over the threshold,
// and the periodic flush of the write buffer (with an fsync under
// SyncEvery). One goroutine writes hints and compacts; another flushes.
type background struct {
	stop    chan struct{}  // closed by stopBackground; made anew by startBackground, while no operation runs
	wg      sync.WaitGroup // the goroutines
	nudge   chan struct{}  // capacity 1: hints to write or compaction may be due
	newMode chan struct{}  // capacity 1: SetSync changed the mode the flusher follows

	mu       sync.Mutex // protects the fields below
	unhinted []*segment // sealed segments waiting for their hint file
	retry    time.Time  // no background compaction before this, after a failure
}

// compactRetry is how long the background compactor waits after a failure
// (a full disk, say) before it tries again.
const compactRetry = time.Second

func (b *background) init() {
	b.nudge = make(chan struct{}, 1)
	b.newMode = make(chan struct{}, 1)
}

// poke wakes the maintenance goroutine without blocking.
func (b *background) poke() {
	select {
	case b.nudge <- struct{}{}:
	default:
	}
}

// startBackground starts the background goroutines: at Open, and again
// after a Close that failed.
func (s *Store) startBackground() {
	s.bg.stop = make(chan struct{})
	s.bg.wg.Go(s.maintain)
	s.bg.wg.Go(s.flusher)
	s.bg.poke()
}

func (s *Store) stopBackground() {
	close(s.bg.stop)
	s.bg.wg.Wait()
}

func (s *Store) stopping() bool {
	select {
	case <-s.bg.stop:
		return true
	default:
		return false
	}
}

// maintain writes hint files and compacts when nudged, and every
// compactRetry to retry what failed, until the store closes.
func (s *Store) maintain() {
	t := time.NewTicker(compactRetry)
	defer t.Stop()
	for {
		select {
		case <-s.bg.stop:
			return
		case <-s.bg.nudge:
		case <-t.C:
		}
		s.writeQueuedHints()
		s.compactDue()
	}
}

// noneFlushInterval bounds how long a record waits in the write buffer
// under SyncNone: what a killed process can lose.
const noneFlushInterval = 100 * time.Millisecond

// flusher follows the sync mode until the store closes: under SyncNone it
// writes the write buffer out every noneFlushInterval, under SyncEvery it
// syncs every interval, under SyncAlways (commits sync themselves) it
// waits for SetSync to change the mode.
func (s *Store) flusher() {
	for {
		mode := s.syncMode()
		var flush func() error
		var d time.Duration
		switch {
		case mode == SyncNone:
			flush, d = s.flushLog, noneFlushInterval
		case mode > 0:
			flush, d = s.periodicSync, mode.interval()
		}
		if !s.flushEvery(d, flush) {
			return
		}
	}
}

// flushEvery calls flush every d (never for a nil flush) until the store
// closes, when it reports false, or SetSync changes the mode.
func (s *Store) flushEvery(d time.Duration, flush func() error) bool {
	var tick <-chan time.Time
	if flush != nil {
		t := time.NewTicker(d)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-s.bg.stop:
			return false
		case <-s.bg.newMode:
			return true
		case <-tick:
			if flush() != nil {
				s.stats.backgroundErrors.Add(1)
			}
		}
	}
}

// periodicSync is SyncEvery's background sync: a failure leaves a debt
// that the next Put or Delete must pay before it is acknowledged.
func (s *Store) periodicSync() error {
	err := s.syncAll()
	s.syncDebt.Store(err != nil && s.syncMode() > 0) // no debt for a mode SetSync has left meanwhile
	return err
}

// payDebt, under SyncEvery, retries a background sync that failed, and
// returns its error while it still fails: a write must not be acknowledged
// while the ones before it cannot reach the disk, or a crash would lose
// more than the mode's interval of writes (with a full disk, everything
// buffered since).
func (s *Store) payDebt() error {
	if !s.syncDebt.Load() {
		return nil
	}
	if s.syncMode() <= 0 { // SetSync left SyncEvery: nothing is owed under SyncNone, SyncAlways syncs each write
		s.syncDebt.Store(false)
		return nil
	}
	if err := s.syncAll(); err != nil {
		return fmt.Errorf("disk: the writes before this one are not on disk: %w", err)
	}
	s.syncDebt.Store(false)
	return nil
}

// onDead is the index's hook: a record in g died. It wakes the compactor
// when a sealed g crosses the threshold.
func (s *Store) onDead(g *segment) {
	t := s.opts.CompactThreshold
	if t > 0 && g.sealed.Load() && g.deadFraction() >= t {
		s.bg.poke()
	}
}

// queueHint queues sealed segment g for its hint file.
func (s *Store) queueHint(g *segment) {
	s.bg.mu.Lock()
	s.bg.unhinted = append(s.bg.unhinted, g)
	s.bg.mu.Unlock()
	s.bg.poke()
}

// writeQueuedHints writes the hint files of the queued segments; failures
// stay queued for the next nudge or Close.
func (s *Store) writeQueuedHints() {
	s.bg.mu.Lock()
	queued := s.bg.unhinted
	s.bg.unhinted = nil
	s.bg.mu.Unlock()
	var failed []*segment
	for _, g := range queued {
		if s.stopping() {
			failed = append(failed, g)
			continue
		}
		// A damaged segment gets no hint, now or on retry: one that
		// left its bad records out would make the next Open skip them.
		if err := s.hintSegment(g, s.syncMode() != SyncNone); err != nil && !errors.Is(err, tier.ErrCorrupt) {
			failed = append(failed, g)
		}
	}
	s.bg.mu.Lock()
	s.bg.unhinted = append(s.bg.unhinted, failed...)
	s.bg.mu.Unlock()
}

// writeMissingHints writes the hint file of every segment without one,
// durably. Close calls it after the background has stopped.
func (s *Store) writeMissingHints() {
	gs := s.segs.pick(func(g *segment) bool { return !g.hinted.Load() })
	defer releaseAll(gs)
	for _, g := range gs {
		s.hintSegment(g, true)
	}
}

// hintSegment writes the hint file of sealed segment g, unless compaction
// retired it first. If durable, it syncs g first, so that the hint never
// names records a machine crash could lose; under SyncNone the background
// does not (a hint ahead of its data makes the lost records ErrCorrupt
// rather than silently absent) and leaves every fsync to the OS.
func (s *Store) hintSegment(g *segment, durable bool) error {
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	if g.hinted.Load() || !s.segs.tryAcquire(g) {
		return nil
	}
	defer g.release()
	var err error
	if durable {
		err = g.sync(&s.stats.fsyncs)
	}
	if err == nil {
		err = s.writeHintScanning(g, durable)
	}
	if err != nil {
		s.stats.backgroundErrors.Add(1)
	}
	return err
}

// writeHintScanning scans g, seals its header with its record count (see
// flagSealed) and writes its hint file. If durable, the seal is synced
// before the hint is written: a hint never outlives its seal, and the
// caller synced the records before the seal.
func (s *Store) writeHintScanning(g *segment, durable bool) error {
	res, err := s.scanClean(g)
	if err != nil {
		return err
	}
	if err := g.writeHeader(len(res.recs)); err != nil {
		return err
	}
	if durable {
		if err := g.sync(&s.stats.fsyncs); err != nil {
			return err
		}
	}
	if err := writeHint(s.fs, s.dir, g, res.recs, durable); err != nil {
		return err
	}
	g.hinted.Store(true)
	return nil
}

// compactDue compacts the sealed segments over the threshold.
func (s *Store) compactDue() {
	t := s.opts.CompactThreshold
	if t <= 0 || time.Now().Before(s.retryAt()) {
		return
	}
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	inputs := s.compactionInputs(func(g *segment) bool { return g.deadFraction() >= t })
	defer releaseAll(inputs)
	if len(inputs) > 0 && s.compactLocked(inputs) != nil {
		s.stats.backgroundErrors.Add(1)
		s.bg.mu.Lock()
		s.bg.retry = time.Now().Add(compactRetry)
		s.bg.mu.Unlock()
	}
}

func (s *Store) retryAt() time.Time {
	s.bg.mu.Lock()
	defer s.bg.mu.Unlock()
	return s.bg.retry
}

// scanClean scans segment g, which the store wrote and holds a reference
// on, and returns its records; bytes that hold no record are a
// *CorruptError, so that nothing copies or hints a segment without them.
func (s *Store) scanClean(g *segment) (scanResult, error) {
	size := g.size.Load()
	res, err := scanSegment(g.file, size, g.appended.Load()) // a segment this store wrote: appended counts its records
	if err != nil {
		return res, ioError(err, "scanning segment %d", g.id)
	}
	if !res.clean(size) {
		return res, res.corruptAt(s.dir, filepath.Base(fileName(s.dir, g.id, segmentExt)))
	}
	return res, nil
}
