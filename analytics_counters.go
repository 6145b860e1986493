package tiermem

import (
	"errors"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tiermem/tiermem/internal/gate"
	"github.com/tiermem/tiermem/internal/header"
)

// counterStripes is the number of stripes the operation counters are spread
// over, indexed by the gate token an operation already holds: a token comes
// from the goroutine's stack address, so goroutines on different cores
// seldom share a stripe, and counting costs one uncontended atomic add.
const counterStripes = 32

// sampleEvery is how often an operation is timed: the operation after every
// 64th counted one of a stripe. Only a timed operation reads the clock.
const sampleEvery = 64

// collector is what the read and store paths write to while analytics is
// on: counters striped over cache lines, and latency histograms of the
// timed operations. It is safe for concurrent use; the sampler reads it
// while operations write it.
type collector struct {
	epoch    time.Time // what clock counts from: a monotonic reading, so that clock reads no wall time
	reads    [counterStripes]readStripe
	stores   [counterStripes]storeStripe
	retrieve [Glacier + 1]histogram // latencies of timed reads, by the tier that served them
	store    [Glacier + 1]histogram // latencies of timed Stores, by the tier written
}

// readStripe counts the reads of the goroutines whose token maps to it,
// alone on its cache line.
type readStripe struct {
	hits   [Glacier + 1]atomic.Uint64 // reads served from each tier
	misses atomic.Uint64              // reads that found no value (absent or expired)
	timeIt atomic.Bool                // the next read of this stripe is timed
	_      [64 - 5*8 - 4]byte
}

// storeStripe counts the Stores of the goroutines whose token maps to it,
// alone on its cache line.
type storeStripe struct {
	stores [Glacier + 1]atomic.Uint64 // Stores that placed a value in each tier
	timeIt atomic.Bool
	_      [64 - 4*8 - 4]byte
}

// timing reports whether the operation about to run on a stripe whose
// flag is f is timed, and claims the flag: a load of a line the operation
// writes anyway, and a compare-and-swap one time in sampleEvery.
func timing(f *atomic.Bool) bool { return f.Load() && f.CompareAndSwap(true, false) }

// count adds one to c and arms f when the count reaches a multiple of
// sampleEvery.
func count(c *atomic.Uint64, f *atomic.Bool) {
	if c.Add(1)%sampleEvery == 0 {
		f.Store(true)
	}
}

// countRead counts a read that ended with err (the error its caller gets)
// as a hit of t, or, for ErrNotFound, a miss; another error is neither.
func (c *collector) countRead(tok gate.Token, t *tierState, err error) {
	s := &c.reads[tok%counterStripes]
	switch {
	case err == nil:
		count(&s.hits[t.level], &s.timeIt)
	case errors.Is(err, ErrNotFound):
		count(&s.misses, &s.timeIt)
	}
}

// readObserved is readAppend's body while analytics is on: the read,
// counted as a hit of the tier that served it or as a miss, and timed when
// its stripe's turn has come. A read that fails otherwise (a corrupt value,
// an I/O error, an error of fn's own, even one wrapping ErrNotFound) is
// neither.
func (m *Manager) readObserved(c *collector, tok gate.Token, key string, mode readMode, dst []byte, fn func(*tierState, []byte, header.Header) error) error {
	s := &c.reads[tok%counterStripes]
	timed := timing(&s.timeIt)
	var start time.Duration
	if timed {
		start = c.clock()
	}
	o := observedReads.Get().(*observedRead)
	o.fn = fn
	t, err := m.readLocked(key, mode, dst, o.call)
	fnErr := o.err // fn's own error: the value was found
	*o = observedRead{call: o.call}
	observedReads.Put(o)
	if err != nil {
		err = m.readError(key, err)
		if fnErr == nil {
			c.countRead(tok, nil, err)
		}
		return err
	}
	m.accessed(t, key)
	c.countRead(tok, t, nil)
	if timed {
		c.retrieve[t.level].record(c.clock() - start)
	}
	return nil
}

// observedRead runs a read's fn for readObserved and keeps fn's own
// error: pooled, with its method bound once, so that an observed read
// allocates nothing (a closure over the error escaped through readLocked,
// two allocations a read).
type observedRead struct {
	fn   func(*tierState, []byte, header.Header) error
	err  error
	call func(*tierState, []byte, header.Header) error // o.run, bound once
}

func (o *observedRead) run(t *tierState, v []byte, h header.Header) error {
	o.err = o.fn(t, v, h)
	return o.err
}

var observedReads = sync.Pool{New: func() any {
	o := &observedRead{}
	o.call = o.run
	return o
}}

// storeObserved is the end of a Store while analytics is on: the put,
// counted for the tier written and timed when its stripe's turn has come.
func (m *Manager) storeObserved(c *collector, tok gate.Token, key string, value, meta []byte, env header.Header, t *tierState, p prepared, wait patience) error {
	s := &c.stores[tok%counterStripes]
	timed := timing(&s.timeIt)
	var start time.Duration
	if timed {
		start = c.clock()
	}
	if err := m.put(key, value, meta, env, t, p, wait); err != nil {
		return err
	}
	count(&s.stores[t.level], &s.timeIt)
	if timed {
		c.store[t.level].record(c.clock() - start)
	}
	return nil
}

// clock returns the time since the collector's epoch: one read of the
// monotonic clock, about half what time.Now costs, which also reads the
// wall clock.
func (c *collector) clock() time.Duration { return time.Since(c.epoch) }

// totals is the sum of a collector's counters at one moment.
type totals struct {
	hits, stores [Glacier + 1]uint64
	misses       uint64
}

// sum adds up the stripes. The counts of operations running meanwhile may
// or may not be in it; each is in the next sum if not in this one.
func (c *collector) sum() totals {
	var s totals
	for i := range c.reads {
		r, w := &c.reads[i], &c.stores[i]
		for t := range s.hits {
			s.hits[t] += r.hits[t].Load()
			s.stores[t] += w.stores[t].Load()
		}
		s.misses += r.misses.Load()
	}
	return s
}

// Histogram buckets are log-linear: values below 2·histSub nanoseconds have
// a bucket each; above, every power of two is split into histSub buckets,
// so a bucket is at most 1/histSub of its lower bound wide and the midpoint
// reported is within 1/(2·histSub) ≈ 3% of any value in it. Values from
// 2^histMaxBits ns (about 18 minutes) up share the last bucket.
const (
	histSubBits = 4
	histSub     = 1 << histSubBits // 16
	histMaxBits = 40
	histBuckets = (histMaxBits-histSubBits)*histSub + histSub // 592: 4.6 KiB of counters
)

// histogram counts durations in log-linear buckets: recording is one atomic
// add and allocates nothing. It is safe for concurrent use.
type histogram struct {
	counts [histBuckets]atomic.Uint64
}

func (h *histogram) record(d time.Duration) { h.counts[bucketOf(d)].Add(1) }

// bucketOf returns the bucket of a duration.
func bucketOf(d time.Duration) int {
	v := uint64(max(d, 0))
	if v < 2*histSub {
		return int(v)
	}
	if v >= 1<<histMaxBits {
		return histBuckets - 1
	}
	e := bits.Len64(v) - histSubBits - 1 // v>>e is in [histSub, 2·histSub)
	return (e+1)*histSub + int(v>>e) - histSub
}

// bucketValue returns a bucket's midpoint: the value a percentile that
// falls in it reports.
func bucketValue(b int) time.Duration {
	if b < 2*histSub {
		return time.Duration(b)
	}
	e := b/histSub - 1
	lo := uint64(histSub+b%histSub) << e
	return time.Duration(lo + (uint64(1)<<e)/2)
}

// load copies the counts into dst.
func (h *histogram) load(dst *[histBuckets]uint64) {
	for i := range h.counts {
		dst[i] = h.counts[i].Load()
	}
}

// percentiles returns the p50, p99 and p999 of the values counted in
// cur but not in prev, and how many those are. Each percentile is the
// value at rank ⌈q·n⌉.
func percentiles(cur, prev *[histBuckets]uint64) Latency {
	var n uint64
	for i := range cur {
		n += cur[i] - prev[i]
	}
	l := Latency{Samples: int64(n)}
	if n == 0 {
		return l
	}
	quantiles := [...]struct {
		q   float64
		out *time.Duration
	}{{0.50, &l.P50}, {0.99, &l.P99}, {0.999, &l.P999}}
	var seen uint64
	next := 0
	for b := range cur {
		seen += cur[b] - prev[b]
		for next < len(quantiles) && seen >= rank(quantiles[next].q, n) {
			*quantiles[next].out = bucketValue(b)
			next++
		}
		if next == len(quantiles) {
			break
		}
	}
	return l
}

// rank returns ⌈q·n⌉, at least 1.
func rank(q float64, n uint64) uint64 {
	r := uint64(q * float64(n))
	if float64(r) < q*float64(n) {
		r++
	}
	return max(r, 1)
}

// Counts are the reads and Stores analytics counted since it was last
// enabled: running totals, unlike a sample's counts of one interval, so
// that a reader polling less often than the ring turns over (a Prometheus
// scrape) misses none.
type Counts struct {
	Since  time.Time           // when counting began: the EnableAnalytics that started it
	Hits   [Glacier + 1]uint64 // reads served from each tier
	Misses uint64              // reads that found no value (absent or expired)
	Stores [Glacier + 1]uint64 // Stores that placed a value in each tier
}

// Counts returns the running totals of the reads and Stores counted since
// EnableAnalytics was last called, and false before it ever was. After
// DisableAnalytics they stay as they were; a later EnableAnalytics starts
// them again from zero, with a new Since. Operations running meanwhile
// may or may not be in them; each is in the next call's if not in this
// one's. It is safe to call concurrently with any method, and after Close.
func (m *Manager) Counts() (Counts, bool) {
	s := m.sampler.Load()
	if s == nil {
		return Counts{}, false
	}
	t := s.c.sum()
	return Counts{Since: s.c.epoch, Hits: t.hits, Misses: t.misses, Stores: t.stores}, true
}
