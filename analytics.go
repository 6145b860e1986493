package tiermem

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// AnalyticsSample is what the Manager did during one sampling interval, and
// what its tiers held at the end of it. Counts (hits, misses, Stores,
// moves) are of the interval alone, not since Open.
type AnalyticsSample struct {
	Time     time.Time     // when the sample was taken: the end of the interval
	Interval time.Duration // since the previous sample, or since EnableAnalytics for the first

	Hits   int64 // reads that returned a value
	Misses int64 // reads that found no value: absent, or its TTL ran out
	// HitRate is Hits / (Hits + Misses), from 0 to 1; NaN when the
	// interval had no read.
	HitRate float64

	// Tiers holds one entry per tier the Manager has, indexed by Tier:
	// hot, warm and cold, and glacier unless Glacier.Disabled.
	Tiers []TierSample
}

// TierSample is one tier in an AnalyticsSample.
type TierSample struct {
	TierUsage // what the tier held at the sample's Time

	// Hits counts the reads of the interval that this tier served (the
	// fastest tier holding the key); HitRate is Hits / all the interval's
	// reads, so that the tiers' HitRates add up to the sample's. NaN when
	// the interval had no read.
	Hits    int64
	HitRate float64
	Stores  int64 // Stores that placed a value in this tier

	// The moves of the interval: Promotions into this tier, Demotions out
	// of it (Evictions the ones made for room), Expirations of its entries.
	// Data never leaves the Manager to keep a budget (a Store that finds no
	// room fails with ErrNoSpace), so every eviction goes to the next tier.
	TierStats

	Retrieve Latency // reads served from this tier
	Store    Latency // Stores into this tier
}

// Latency is a distribution of the latencies of the operations timed in an
// interval: one in 64 of each kind, chosen by a counter, so that the others
// never read the clock. A percentile is the midpoint of the histogram
// bucket it falls in, within 3% of the true value; with fewer than 1000
// timed operations P999 is the slowest of them. All zero when none was
// timed.
type Latency struct {
	Samples        int64 // operations timed
	P50, P99, P999 time.Duration
}

// AnalyticsOption changes how EnableAnalytics samples.
type AnalyticsOption func(*analyticsOptions)

type analyticsOptions struct {
	capacity int
}

// DefaultAnalyticsCapacity is how many samples the ring keeps unless
// AnalyticsCapacity says otherwise: 1024, about 0.7 MB with four tiers.
const DefaultAnalyticsCapacity = 1024

// maxAnalyticsCapacity bounds AnalyticsCapacity: the ring is allocated
// whole, about 700 bytes a sample (16 Mi samples: 11 GB).
const maxAnalyticsCapacity = 1 << 24

// AnalyticsCapacity makes the ring keep the latest n samples (n ≥ 1): its
// memory, about 700 bytes a sample with four tiers, is taken once, by
// EnableAnalytics, and does not grow.
func AnalyticsCapacity(n int) AnalyticsOption {
	return func(o *analyticsOptions) { o.capacity = n }
}

// EnableAnalytics starts recording what the Manager does: from now on
// reads and Stores are counted, one in 64 of them timed, and every
// interval a sample is taken into a ring of fixed size (AnalyticsCapacity;
// the oldest samples make room for new ones). Analytics and WriteAnalytics
// return the samples.
//
// Calling it while analytics is on starts over: the samples taken so far
// are dropped and the options given apply. It returns an error wrapping
// ErrOptions for an interval or capacity below 1, and ErrClosed once the
// Manager is closed or while a Close waits for the operations in flight. It is safe to call concurrently with any method;
// analytics stops at DisableAnalytics or Close.
func (m *Manager) EnableAnalytics(interval time.Duration, opts ...AnalyticsOption) error {
	o := analyticsOptions{capacity: DefaultAnalyticsCapacity}
	for _, opt := range opts {
		opt(&o)
	}
	if interval <= 0 {
		return fmt.Errorf("%w: EnableAnalytics(%v): the interval must be positive", ErrOptions, interval)
	}
	if o.capacity < 1 || o.capacity > maxAnalyticsCapacity {
		return fmt.Errorf("%w: AnalyticsCapacity(%d): want 1 to %d samples", ErrOptions, o.capacity, maxAnalyticsCapacity)
	}
	if !m.lockUnlessClosing() {
		return ErrClosed
	}
	defer m.closeMu.Unlock()
	if m.closed || m.gate.Closed() {
		return ErrClosed
	}
	m.stopAnalyticsLocked(false)
	s := newSampler(m, interval, o.capacity)
	m.sampler.Store(s)
	m.analytics.Store(s.c)
	s.start()
	return nil
}

// DisableAnalytics stops recording: it takes a last sample of the interval
// begun (a read or Store running meanwhile may be left out of it), and
// reads and Stores go back to costing nothing for analytics.
// The samples stay available to Analytics and WriteAnalytics until the
// next EnableAnalytics. It does nothing while analytics is off, and is
// safe to call concurrently with any method.
func (m *Manager) DisableAnalytics() {
	if !m.lockUnlessClosing() {
		return // Close stops analytics itself, once the operations in flight have left
	}
	defer m.closeMu.Unlock()
	m.stopAnalyticsLocked(false)
}

// lockUnlessClosing takes closeMu, or reports false while a Close holds it
// and waits for the operations in flight: one of those (a Snapshot's
// Progress, a View's fn) may be the caller, which would wait for the Close
// that waits for it.
func (m *Manager) lockUnlessClosing() bool {
	for !m.closeMu.TryLock() {
		if m.gate.Closed() {
			return false
		}
		time.Sleep(100 * time.Microsecond)
	}
	return true
}

// stopAnalyticsLocked stops the sampler, if one runs, after a last sample;
// byClose marks it for resumeAnalyticsLocked. closeMu is held.
func (m *Manager) stopAnalyticsLocked(byClose bool) {
	if s := m.sampler.Load(); s != nil && s.stopAndSample() {
		m.analytics.Store(nil)
		s.stoppedByClose = byClose
	}
}

// resumeAnalyticsLocked starts again the sampling that a Close which
// failed stopped. closeMu is held.
func (m *Manager) resumeAnalyticsLocked() {
	if s := m.sampler.Load(); s != nil && s.stoppedByClose {
		s.stoppedByClose, s.stopped = false, false
		s.stop, s.done = make(chan struct{}), make(chan struct{})
		m.analytics.Store(s.c)
		s.start()
	}
}

// Analytics returns a copy of the samples the ring holds, oldest first:
// empty before EnableAnalytics. The slice and the Tiers slices in it are
// the caller's. It is safe to call concurrently with any method, and after
// DisableAnalytics or Close.
func (m *Manager) Analytics() []AnalyticsSample {
	s := m.sampler.Load()
	if s == nil {
		return nil
	}
	return s.ring.copy()
}

// sampler takes a sample every interval, from its own goroutine, until
// stopped.
type sampler struct {
	m        *Manager
	c        *collector
	interval time.Duration
	ring     *ring
	stop     chan struct{}
	done     chan struct{}
	stopped  bool // stopAndSample ran; protected by the Manager's closeMu
	// stoppedByClose: Close stopped it, and a failed Close resumes it;
	// protected by the Manager's closeMu.
	stoppedByClose bool

	// What the previous sample saw, for the next one's differences: owned
	// by whoever takes a sample, one at a time (the goroutine, then the
	// final sample after it has exited).
	last     time.Time
	lastSum  totals
	lastMove Stats
	lastHist [2][Glacier + 1][histBuckets]uint64 // retrieve, store
	hist     [histBuckets]uint64                 // scratch
}

func newSampler(m *Manager, interval time.Duration, capacity int) *sampler {
	s := &sampler{
		m: m, c: &collector{epoch: time.Now()}, interval: interval,
		ring: newRing(capacity, len(m.tiers)),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	s.last, s.lastMove = m.now(), m.Stats()
	return s
}

func (s *sampler) start() {
	go func() {
		defer close(s.done)
		tick := time.NewTicker(s.interval)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
				s.sample()
			}
		}
	}()
}

// stopAndSample stops the goroutine, waits for it, and takes a last
// sample. It reports false if the sampler was stopped already.
func (s *sampler) stopAndSample() bool {
	if s.stopped {
		return false
	}
	s.stopped = true
	close(s.stop)
	<-s.done
	s.sample()
	return true
}

// sample takes one sample into the ring.
func (s *sampler) sample() {
	m := s.m
	now := m.now()
	sum, moves, usage := s.c.sum(), m.Stats(), m.Usage()
	r := s.ring.next()
	r.Time, r.Interval = now, now.Sub(s.last)
	var reads int64
	for t := range r.Tiers {
		reads += int64(sum.hits[t] - s.lastSum.hits[t])
	}
	r.Misses = int64(sum.misses - s.lastSum.misses)
	r.Hits, reads = reads, reads+r.Misses
	r.HitRate = ratio(r.Hits, reads)
	for t := range r.Tiers {
		ts := &r.Tiers[t]
		ts.TierUsage = usage[t]
		ts.Hits = int64(sum.hits[t] - s.lastSum.hits[t])
		ts.HitRate = ratio(ts.Hits, reads)
		ts.Stores = int64(sum.stores[t] - s.lastSum.stores[t])
		cur, prev := moves.Tiers[t], s.lastMove.Tiers[t]
		ts.TierStats = TierStats{
			Promotions: cur.Promotions - prev.Promotions, Demotions: cur.Demotions - prev.Demotions,
			Evictions: cur.Evictions - prev.Evictions, Expirations: cur.Expirations - prev.Expirations,
		}
		ts.Retrieve = s.latency(&s.c.retrieve[t], &s.lastHist[0][t])
		ts.Store = s.latency(&s.c.store[t], &s.lastHist[1][t])
	}
	s.ring.publish()
	s.last, s.lastSum, s.lastMove = now, sum, moves
}

// latency returns the percentiles of what h counted since prev, and makes
// prev what h counts now.
func (s *sampler) latency(h *histogram, prev *[histBuckets]uint64) Latency {
	h.load(&s.hist)
	l := percentiles(&s.hist, prev)
	*prev = s.hist
	return l
}

// ratio returns n/of, NaN when of is 0.
func ratio(n, of int64) float64 {
	if of == 0 {
		return math.NaN()
	}
	return float64(n) / float64(of)
}

// ring keeps the latest samples in memory taken once: the samples, and one
// array their Tiers slices share. One sampler writes it; any goroutine
// copies it out.
type ring struct {
	mu      sync.Mutex // protects n and head, and the samples from publish to copy
	samples []AnalyticsSample
	n       int // samples held, up to len(samples)
	head    int // where the next sample goes
	spare   AnalyticsSample
}

func newRing(capacity, tiers int) *ring {
	r := &ring{samples: make([]AnalyticsSample, capacity)}
	backing := make([]TierSample, (capacity+1)*tiers)
	for i := range r.samples {
		r.samples[i].Tiers = backing[i*tiers : (i+1)*tiers : (i+1)*tiers]
	}
	r.spare.Tiers = backing[capacity*tiers:]
	return r
}

// next returns the spare sample to fill, outside the lock: readers never
// see it until publish.
func (r *ring) next() *AnalyticsSample { return &r.spare }

// publish puts the spare sample in the ring, in place of the oldest when
// full; the one it replaces becomes the spare.
func (r *ring) publish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.samples[r.head], r.spare = r.spare, r.samples[r.head]
	r.head = (r.head + 1) % len(r.samples)
	r.n = min(r.n+1, len(r.samples))
}

// copy returns the samples, oldest first, in memory of their own.
func (r *ring) copy() []AnalyticsSample {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]AnalyticsSample, r.n)
	if r.n == 0 {
		return out
	}
	tiers := len(r.samples[0].Tiers)
	backing := make([]TierSample, r.n*tiers)
	first := (r.head - r.n + len(r.samples)) % len(r.samples)
	for i := range out {
		out[i] = r.samples[(first+i)%len(r.samples)]
		out[i].Tiers = backing[i*tiers : (i+1)*tiers : (i+1)*tiers]
		copy(out[i].Tiers, r.samples[(first+i)%len(r.samples)].Tiers)
	}
	return out
}
