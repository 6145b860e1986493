package observe

import (
	"runtime"
	"sync"
	"time"

	"github.com/tiermem/tiermem/alloc"
	"github.com/tiermem/tiermem/cache"
)

// Optimizer samples the runtime in the background from Start to Stop, and
// reports on memory, leaks, allocation hot spots, the GC and the pools and
// caches it was given. Its methods are safe for concurrent use. While any
// Optimizer runs, this package owns memory.SetLeakReporter (the default,
// logging reporter comes back when the last one stops).
type Optimizer struct {
	opts  Options
	ram   int64
	stop  chan struct{} // closed by Stop
	done  chan struct{} // closed when the loop has returned
	ended chan struct{} // closed by Stop once final is set: Snapshot and a second Stop wait for it

	mu      sync.Mutex // protects the fields below
	stopped bool
	final   Report // the report Stop returned
	reader  *reader
	prof    *profiler
	gbuf    []runtime.StackRecord
	ticks   int
	samples *ring[Sample]
	heaps   *ring[heapProfile]
	gors    *ring[goroutineProfile]
	// from is where the GC window starts: Start, or the latest Apply.
	from          Sample
	fromPauses    histogram
	fromSched     histogram
	pauses, sched histogram // as of the latest sample
	applied       []Applied
	startTime     time.Time
	allocBase     []alloc.Stats
	cacheBase     []cache.Stats

	leakMu sync.Mutex // protects leaks; taken after leakHub.mu
	leaks  []offHeapLeak
}

// maxLeakReports bounds the off-heap leak reports an Optimizer keeps; later
// ones are dropped.
const maxLeakReports = 4096

// Start begins sampling with opts (nil: defaults) and returns the running
// Optimizer; it takes the first sample and profiles before it returns. It
// returns ErrOptions for options out of range. Stop it when done: its
// goroutine runs until then.
func Start(opts *Options) (*Optimizer, error) {
	c, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	o := &Optimizer{opts: c, ram: physicalMemory(), stop: make(chan struct{}), done: make(chan struct{}), ended: make(chan struct{}),
		reader: newReader(), prof: newProfiler(), samples: newRing[Sample](c.Samples),
		heaps: newRing[heapProfile](c.Profiles), gors: newRing[goroutineProfile](c.Profiles)}
	o.mu.Lock()
	o.takeLocked(true)
	o.from, _ = o.samples.last()
	o.fromPauses, o.fromSched = o.pauses, o.sched
	o.startTime = o.from.Time
	o.allocBase, o.cacheBase = o.readSourcesLocked()
	o.mu.Unlock()
	subscribeLeaks(o)
	go o.loop()
	return o, nil
}

func (o *Optimizer) loop() {
	defer close(o.done)
	t := time.NewTicker(o.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-o.stop:
			return
		case <-t.C:
			o.mu.Lock()
			o.ticks++
			o.takeLocked(o.ticks%o.opts.ProfileEvery == 0)
			o.mu.Unlock()
		}
	}
}

// takeLocked takes a sample and, if profile, a heap and a goroutine profile.
func (o *Optimizer) takeLocked(profile bool) {
	now := time.Now()
	o.samples.push(o.reader.read(now))
	o.pauses, o.sched = o.reader.histograms()
	if profile {
		o.pushHeapLocked(now)
		var gp goroutineProfile
		gp, o.gbuf = goroutines(o.gbuf, now)
		if o.opts.LeakProfile {
			gp.unreachable, _ = readLeakProfile()
		}
		o.gors.push(gp)
	}
}

// pushHeapLocked takes a heap profile, unless no GC cycle has completed
// since the last one: the runtime publishes its profile at the end of a
// cycle, so it would be the last one again, and a copy of it would flatten
// every trend (a leak would seem to level off).
func (o *Optimizer) pushHeapLocked(now time.Time) {
	s, _ := o.samples.last()
	if last, ok := o.heaps.last(); ok && last.cycles == s.GCCycles {
		return
	}
	hp := o.prof.heap(now)
	// Counted after the profile: a cycle that ends in between makes the
	// next profile wait for one more, never pushes one twice.
	hp.cycles = completedCycles()
	o.heaps.push(hp)
}

// Sample takes a sample and the heap and goroutine profiles now, besides the
// periodic ones: a program with phases calls it at the end of each. It
// returns ErrStopped after Stop.
func (o *Optimizer) Sample() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.stopped {
		return ErrStopped
	}
	o.takeLocked(true)
	return nil
}

// Snapshot returns a report as of now: the ring of samples and a reading
// taken now, which is not kept (however often Snapshot is called, the ring
// keeps its cadence). The Optimizer keeps running. After Stop it returns
// the report Stop returned.
func (o *Optimizer) Snapshot() Report {
	st, stopped := o.stateNow()
	if stopped {
		return o.finalReport()
	}
	return st.report()
}

// stateNow returns stateNowLocked, or false after Stop. The lock is
// released however it returns: a source that panics (Options) must not
// wedge the Optimizer.
func (o *Optimizer) stateNow() (state, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.stopped {
		return state{}, true
	}
	return o.stateNowLocked(), false
}

// stateNowLocked is stateLocked with a reading taken now as the newest
// sample, outside the ring.
func (o *Optimizer) stateNowLocked() state {
	now := o.reader.read(time.Now())
	o.pauses, o.sched = o.reader.histograms()
	st := o.stateLocked()
	st.samples = append(st.samples, now)
	return st
}

// Stop ends sampling, takes a last sample and profiles, and returns the
// final report. A second Stop returns ErrStopped (and the same report).
// The GC settings Apply made stay: they are the tuning asked for, which
// outlives the sampling (each Applied's Previous holds what it replaced,
// for a caller that wants it back). Should a source (Options) panic while
// the final report is built, the panic reaches the caller of Stop, and
// Snapshot and a second Stop return a report of the samples alone.
func (o *Optimizer) Stop() (Report, error) {
	o.mu.Lock()
	if o.stopped {
		o.mu.Unlock()
		return o.finalReport(), ErrStopped
	}
	o.stopped = true
	close(o.stop)
	o.mu.Unlock()
	// Closed however Stop returns: should a source panic while the final
	// report is built, Snapshot and a second Stop get the samples alone
	// instead of waiting for ever.
	defer close(o.ended)
	<-o.done
	unsubscribeLeaks(o)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.takeLocked(true)
	o.final = o.samplesReportLocked()
	o.final = o.stateLocked().report()
	return o.final.clone(), nil
}

// samplesReportLocked returns a report of the ring of samples alone, with
// no analysis.
func (o *Optimizer) samplesReportLocked() Report {
	samples := o.samples.values()
	return Report{Kind: ReportKind, Version: ReportVersion, Start: o.startTime,
		End: samples[len(samples)-1].Time, Memory: memoryOf(samples), Samples: samples}
}

// finalReport waits until the Stop under way has built its report, and
// returns a copy of it.
func (o *Optimizer) finalReport() Report {
	<-o.ended
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.final.clone()
}

// recordLeak keeps one report of memory's leak reporter.
func (o *Optimizer) recordLeak(l offHeapLeak) {
	o.leakMu.Lock()
	defer o.leakMu.Unlock()
	if len(o.leaks) >= maxLeakReports {
		return // memory.ReadStats still counts them (Sample.OffHeap, LeakedBlocks)
	}
	o.leaks = append(o.leaks, l)
}

func (o *Optimizer) readSourcesLocked() ([]alloc.Stats, []cache.Stats) {
	a := make([]alloc.Stats, len(o.opts.Allocators))
	for i, s := range o.opts.Allocators {
		a[i] = s.Stats()
	}
	c := make([]cache.Stats, len(o.opts.Caches))
	for i, s := range o.opts.Caches {
		c[i] = s.Stats()
	}
	return a, c
}
