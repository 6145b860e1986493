package extsort

import (
	"errors"
	"fmt"
	"os"
)

// Options configure a Sorter. The zero value is usable: runs go to
// os.TempDir, 64 MiB of memory, insertion order among equal keys.
type Options struct {
	// Dir is the directory of the run files; "" means os.TempDir().
	Dir string
	// Unlink makes each run file nameless from the moment it is made
	// (on Linux it never has a name, O_TMPFILE, where Dir's file system
	// allows; elsewhere it is unlinked right after it is created): written
	// and read through its descriptor, so that a process killed while it
	// sorts leaves no run in Dir, for a caller whose Dir
	// nothing sweeps. Each run then holds a file descriptor until the merge
	// Sort starts folds it into another, or Close. Without it, runs are
	// named files in Dir until Close, and a killed process leaves them.
	Unlink bool
	// MemoryLimit bounds the bytes of buffered records (their bytes plus 32
	// per record), split between the buffer being filled and the one being
	// spilled. The merge holds its run readers' buffers within about half of
	// it (but never less than two buffers of 4 KiB). 0 means 64 MiB.
	MemoryLimit int64
	// Compare orders records with equal keys; nil keeps insertion order.
	Compare func(a, b []byte) int
	// FanIn is the most runs merged at once; more runs are first merged in
	// groups into longer runs. 0 means 64; the least is 2. A small
	// MemoryLimit lowers it to MemoryLimit / 8 KiB (at least 2), so that
	// the merge's read buffers of 4 KiB or more fit in half the limit.
	FanIn int
}

const (
	defaultMemory = 64 << 20
	defaultFanIn  = 64
	minIOBuffer   = 4 << 10 // a page: smaller reads cost more syscalls than they save
	maxIOBuffer   = 1 << 20
)

// Sorter buffers records, spills sorted runs and merges them. Make one with
// New; Close it when done, whatever happened, to remove its run files.
type Sorter struct {
	opts    Options
	fill    *buffer     // the buffer Add writes to
	spare   *buffer     // the other buffer, once its spill has finished
	pending chan result // the spill in flight, if any
	runs    []run       // run files in insertion order
	n       int64
	err     error // the first failed spill; it sticks, since its records are lost
	sorted  bool
	closed  bool
	iter    *Iter
}

// result is what a background spill reports.
type result struct {
	run      run
	buf      *buffer
	err      error
	panicked any // what the spill panicked with (Compare's panic), else nil
}

// New returns an empty Sorter.
func New(opts Options) *Sorter {
	if opts.MemoryLimit <= 0 {
		opts.MemoryLimit = defaultMemory
	}
	if opts.FanIn == 0 {
		opts.FanIn = defaultFanIn
	}
	opts.FanIn = fanIn(opts.FanIn, opts.MemoryLimit)
	if opts.Dir == "" {
		opts.Dir = os.TempDir()
	}
	half := opts.MemoryLimit / 2
	return &Sorter{opts: opts, fill: &buffer{limit: half}, spare: &buffer{limit: half}}
}

// fanIn returns want, lowered so that that many read buffers of minIOBuffer
// fit in half of memory, and at least 2.
func fanIn(want int, memory int64) int {
	if fit := memory / (2 * minIOBuffer); fit < int64(want) {
		want = int(fit)
	}
	return max(want, 2)
}

// Add copies rec into the sorter under key. It returns ErrTooLarge, and
// keeps nothing, for a record of more than 4 GiB - 1. Once a background
// spill has failed, Add and Sort return that spill's error from then on:
// the records of the failed spill are lost, so the Sorter can no longer
// produce a complete sort. Add returns ErrSorted after Sort, and ErrClosed
// after Close.
func (s *Sorter) Add(key uint64, rec []byte) error {
	if err := s.usable(); err != nil {
		return err
	}
	if int64(len(rec)) > maxArena {
		return fmt.Errorf("%w: %d bytes", ErrTooLarge, len(rec))
	}
	if !s.fill.fits(len(rec)) {
		if err := s.spillAsync(); err != nil {
			return err
		}
	}
	s.fill.add(key, rec)
	s.n++
	return nil
}

// Len returns the number of records added.
func (s *Sorter) Len() int64 { return s.n }

// Runs returns the number of run files spilled so far.
func (s *Sorter) Runs() int { return len(s.runs) }

// usable returns why the Sorter cannot take Add or Sort, if it cannot.
func (s *Sorter) usable() error {
	switch {
	case s.closed:
		return ErrClosed
	case s.err != nil:
		return s.err
	case s.sorted:
		return ErrSorted
	}
	return nil
}

// spillAsync waits for the spill in flight, then hands the full buffer to a
// new background spill and continues with the spare one.
func (s *Sorter) spillAsync() error {
	if err := s.wait(); err != nil {
		return err
	}
	full := s.fill
	s.fill, s.spare = s.spare, nil
	s.pending = make(chan result, 1)
	go func(ch chan<- result) {
		defer func() {
			if p := recover(); p != nil {
				ch <- result{buf: full, panicked: p}
			}
		}()
		ru, err := s.spill(full)
		ch <- result{run: ru, buf: full, err: err}
	}(s.pending)
	return nil
}

// wait collects the spill in flight, if any. A failed spill's error is kept
// in s.err, which makes the Sorter unusable. A spill that panicked (Compare
// did) panics again here, on the caller's goroutine, where it can be
// recovered; the Sorter is unusable after it too, and Close still removes
// the runs.
func (s *Sorter) wait() error {
	p, err := s.collect()
	if p != nil {
		panic(p)
	}
	return err
}

// collect is wait without the panic: it returns what the spill in flight
// panicked with, if it did.
func (s *Sorter) collect() (panicked any, err error) {
	if s.pending == nil {
		return nil, nil
	}
	r := <-s.pending
	s.pending = nil
	r.buf.reset()
	s.spare = r.buf
	switch {
	case r.panicked != nil:
		s.err = fmt.Errorf("extsort: a spill panicked: %v", r.panicked)
		return r.panicked, s.err
	case r.err != nil:
		s.err = r.err
		return nil, r.err
	}
	s.runs = append(s.runs, r.run)
	return nil, nil
}

// spill sorts b and writes it as a run. It touches only b and read-only
// options, so it can run beside Add.
func (s *Sorter) spill(b *buffer) (run, error) {
	b.sort(s.opts.Compare)
	return writeRun(s.opts.Dir, b, s.ioBuffer(), s.opts.Unlink)
}

// ioBuffer is the buffer size of each run reader and writer: the merge holds
// FanIn readers within about half the memory limit. New lowers FanIn so that
// the floor of minIOBuffer keeps this true for any limit of 8 KiB or more.
func (s *Sorter) ioBuffer() int {
	n := s.opts.MemoryLimit / int64(2*s.opts.FanIn)
	return int(min(max(n, minIOBuffer), maxIOBuffer))
}

// Sort ends the adding and returns an iterator over every record in order.
// When nothing was spilled the records never touch the disk. The Iter is
// valid until Close of the Sorter. Sort returns the error of a failed spill
// rather than a sort with records missing; on any error it leaves no run
// file open.
func (s *Sorter) Sort() (*Iter, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	s.sorted = true
	if err := s.wait(); err != nil {
		return nil, err
	}
	if len(s.runs) == 0 {
		s.fill.sort(s.opts.Compare)
		s.iter = &Iter{src: &bufferIter{b: s.fill, i: -1}}
		return s.iter, nil
	}
	if len(s.fill.refs) > 0 {
		ru, err := s.spill(s.fill)
		if err != nil {
			s.err = err
			return nil, err
		}
		s.runs = append(s.runs, ru)
	}
	s.fill, s.spare = nil, nil // the merge needs only the I/O buffers
	if err := s.reduceRuns(); err != nil {
		return nil, err
	}
	m, err := s.openMerger(s.runs)
	if err != nil {
		return nil, err
	}
	s.iter = &Iter{src: m}
	return s.iter, nil
}

// reduceRuns merges the first FanIn runs into one until at most FanIn remain.
// Merging a prefix keeps the runs in insertion order, so the sort stays stable.
func (s *Sorter) reduceRuns() error {
	for len(s.runs) > s.opts.FanIn {
		group := s.runs[:s.opts.FanIn]
		merged, err := s.mergeToRun(group)
		if err != nil {
			return err
		}
		for _, r := range group {
			r.free()
		}
		s.runs = append([]run{merged}, s.runs[s.opts.FanIn:]...)
	}
	return nil
}

// mergeToRun merges runs into one new run file.
func (s *Sorter) mergeToRun(runs []run) (run, error) {
	m, err := s.openMerger(runs)
	if err != nil {
		return run{}, err
	}
	defer m.close()
	w, err := newRunWriter(s.opts.Dir, s.ioBuffer(), s.opts.Unlink)
	if err != nil {
		return run{}, err
	}
	finished := false
	defer func() {
		if !finished { // an error, or Compare panicked: the run is removed
			w.abort()
		}
	}()
	for {
		ok, err := m.next()
		if err != nil {
			return run{}, err
		}
		if !ok {
			finished = true
			return w.finish()
		}
		w.write(m.key(), m.record())
	}
}

func (s *Sorter) openMerger(runs []run) (*merger, error) {
	readers := make([]*runReader, 0, len(runs))
	for i, ru := range runs {
		r, err := openRun(ru, i, s.ioBuffer())
		if err != nil {
			closeRuns(readers)
			return nil, err
		}
		readers = append(readers, r)
	}
	return newMerger(readers, s.opts.Compare)
}

// Close stops the sorter and removes its run files. It waits for a spill in
// flight; if that spill panicked (Compare did), Close panics with it after
// removing the runs. Close is idempotent.
func (s *Sorter) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	panicked, _ := s.collect() // a spill's error is the caller's already, from Add or Sort
	if panicked != nil {
		defer panic(panicked)
	}
	if s.iter != nil {
		errs = append(errs, s.iter.src.close())
	}
	for _, r := range s.runs {
		if err := r.free(); err != nil {
			errs = append(errs, fmt.Errorf("extsort: removing run: %w", err))
		}
	}
	s.runs = nil
	s.fill, s.spare = nil, nil
	return errors.Join(errs...)
}
