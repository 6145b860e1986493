package observe

import (
	"slices"
	"time"

	"github.com/tiermem/tiermem/alloc"
	"github.com/tiermem/tiermem/cache"
)

// state is a copy of what an Optimizer holds, enough to build a report
// without its lock: the profiles it shares are never modified once taken.
type state struct {
	opts                Options
	ram, hotBytes       int64
	start               time.Time
	samples             []Sample
	heaps               []heapProfile
	gors                []goroutineProfile
	from                Sample
	pauses, sched       histogram // since from
	applied             []Applied
	leaks               []offHeapLeak
	allocBase, allocNow []alloc.Stats
	cacheBase, cacheNow []cache.Stats
	pools               []PoolStats
}

func (o *Optimizer) stateLocked() state {
	st := state{opts: o.opts, ram: o.ram, hotBytes: -1, start: o.startTime,
		samples: o.samples.values(), heaps: o.heaps.values(), gors: o.gors.values(),
		from: o.from, pauses: o.pauses.since(o.fromPauses), sched: o.sched.since(o.fromSched),
		applied: slices.Clone(o.applied), allocBase: o.allocBase, cacheBase: o.cacheBase}
	if oldest := st.samples[0]; oldest.Time.After(st.from.Time) {
		st.from = oldest // the ring has moved past Start or the latest Apply
	}
	if o.opts.HotBytes != nil {
		st.hotBytes = o.opts.HotBytes()
	}
	st.allocNow, st.cacheNow = o.readSourcesLocked()
	for _, p := range o.opts.Pools {
		st.pools = append(st.pools, p.Stats())
	}
	o.leakMu.Lock()
	st.leaks = slices.Clone(o.leaks)
	o.leakMu.Unlock()
	return st
}

// hotSpotsTop is how many functions each hot-spot ranking keeps.
const hotSpotsTop = 10

// report analyses the state. It takes well under 100 ms for a ring of 600
// samples and 12 profiles of a few thousand sites (BenchmarkSnapshot).
func (s state) report() Report {
	last := s.samples[len(s.samples)-1]
	r := Report{Kind: ReportKind, Version: ReportVersion, Start: s.start, End: last.Time,
		Memory: memoryOf(s.samples), Samples: s.samples}
	r.HotSpots = s.hotSpots()
	r.GC = measureGC(s.from, last, s.pauses, s.sched)
	tune(&r.GC, tuningInput{hot: r.HotSpots, hotBytes: s.hotBytes, ram: s.ram, outside: last.OffHeap + last.Mapped,
		cpuTarget: s.opts.GCCPUTarget, pauseTarget: s.opts.PauseTarget.Seconds()})
	r.Leaks = s.suspects(last.Time)
	r.Allocators, r.Pools, r.Caches = s.sourceMetrics(last.Time)
	r.Applied = s.measureApplied()
	return r
}

func (s state) hotSpots() HotSpots {
	if len(s.heaps) == 0 {
		return HotSpots{}
	}
	var first *heapProfile
	if len(s.heaps) > 1 {
		first = &s.heaps[0]
	}
	return hotSpotsBetween(first, s.heaps[len(s.heaps)-1], hotSpotsTop)
}

func (s state) suspects(now time.Time) []Suspect {
	out := heapSuspects(s.heaps, s.opts.MinLeakBytes)
	out = append(out, goroutineSuspects(s.gors, s.opts.MinLeakGoroutines)...)
	out = append(out, unreachableSuspects(s.gors)...)
	out = append(out, offHeapSuspects(s.leaks, now)...)
	if len(s.heaps) > 0 {
		out = append(out, offHeapGrowth(s.samples, s.heaps[0].time, s.opts.MinLeakBytes)...)
	}
	return out
}

func memoryOf(samples []Sample) Memory {
	m := Memory{Now: samples[len(samples)-1]}
	xs := secondsOf(len(samples), func(i int) time.Time { return samples[i].Time })
	heap, rss, off := make([]float64, len(samples)), make([]float64, len(samples)), make([]float64, len(samples))
	for i, s := range samples {
		m.PeakHeapLive, m.PeakRSS = max(m.PeakHeapLive, s.HeapLive), max(m.PeakRSS, s.RSS)
		heap[i], rss[i], off[i] = float64(s.HeapLive), float64(s.RSS), float64(s.OffHeap+s.Mapped)
	}
	m.HeapGrowth, m.RSSGrowth, m.OffHeapGrowth = fit(xs, heap), fit(xs, rss), fit(xs, off)
	return m
}

func (s state) sourceMetrics(now time.Time) ([]AllocatorMetrics, []PoolMetrics, []CacheMetrics) {
	secs := now.Sub(s.start).Seconds()
	var am []AllocatorMetrics
	for i, src := range s.opts.Allocators {
		st := s.allocNow[i]
		m := AllocatorMetrics{Name: src.Name, Stats: st, Efficiency: 1 - st.InternalFragmentation,
			Fragmentation: st.ExternalFragmentation, AllocsPerSecond: rate(st.Allocs-s.allocBase[i].Allocs, secs)}
		if src.AllocTime != nil {
			m.AllocTime = src.AllocTime.Stats()
		}
		am = append(am, m)
	}
	var pm []PoolMetrics
	for i, src := range s.opts.Pools {
		pm = append(pm, PoolMetrics{Name: src.Name, Stats: s.pools[i], HitRate: s.pools[i].HitRate()})
	}
	var cm []CacheMetrics
	for i, src := range s.opts.Caches {
		st := s.cacheNow[i]
		m := CacheMetrics{Name: src.Name, Stats: st, HitRate: st.HitRatio(),
			EvictionsPerSecond: rate(int64(st.Evicted-min(s.cacheBase[i].Evicted, st.Evicted)), secs)}
		if src.Hits != nil {
			m.HitLatency = src.Hits.Stats()
		}
		if src.Misses != nil {
			m.MissLatency = src.Misses.Stats()
		}
		cm = append(cm, m)
	}
	return am, pm, cm
}

func rate(n int64, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return float64(n) / secs
}

// measureApplied measures each Apply over the samples between it and the
// next one (or now).
func (s state) measureApplied() []Applied {
	out := slices.Clone(s.applied)
	for i := range out {
		end := time.Time{}
		if i+1 < len(out) {
			end = out[i+1].At
		}
		window := samplesBetween(s.samples, out[i].At, end)
		if len(window) < 2 {
			continue
		}
		first, last := window[0], window[len(window)-1]
		g := measureGC(first, last, histogram{}, histogram{})
		// The runtime updates its CPU estimates at the end of each cycle:
		// a share over fewer than minCycles cycles means nothing yet.
		if g.Cycles < minCycles || last.BusyCPUSeconds <= first.BusyCPUSeconds {
			continue
		}
		out[i].Measured = true
		out[i].AfterGCCPU = g.CPUFraction
		out[i].AfterCyclesPerGiB = cyclesPerGiB(first, last)
		out[i].MeasuredBenefit = out[i].BeforeGCCPU - g.CPUFraction
	}
	return out
}

// samplesBetween returns the samples taken at or after from and before end
// (the zero end: no bound).
func samplesBetween(samples []Sample, from, end time.Time) []Sample {
	i, _ := slices.BinarySearchFunc(samples, from, func(s Sample, t time.Time) int { return s.Time.Compare(t) })
	j := len(samples)
	if !end.IsZero() {
		j, _ = slices.BinarySearchFunc(samples, end, func(s Sample, t time.Time) int { return s.Time.Compare(t) })
	}
	return samples[i:max(i, j)]
}
