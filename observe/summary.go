package observe

import (
	"fmt"
	"strings"
	"time"
)

// Summary returns the report as text a person reads: memory, the GC with
// its bottlenecks and proposals, leak suspects, hot spots, pools and caches.
func (r *Report) Summary() string {
	var b strings.Builder
	r.summarizeMemory(&b)
	r.summarizeGC(&b)
	r.summarizeLeaks(&b)
	r.summarizeHotSpots(&b)
	r.summarizeSources(&b)
	return b.String()
}

func (r *Report) summarizeMemory(b *strings.Builder) {
	m := r.Memory
	fmt.Fprintf(b, "memory report, %s to %s (%v, %d samples)\n", r.Start.Format("15:04:05"),
		r.End.Format("15:04:05"), wallSpan(r.Start, r.End).Round(1e6), len(r.Samples))
	fmt.Fprintf(b, "  heap live %s (peak %s, goal %s), runtime %s, RSS %s (peak %s)\n",
		bytesString(m.Now.HeapLive), bytesString(m.PeakHeapLive), bytesString(m.Now.HeapGoal),
		bytesString(m.Now.Runtime), bytesString(m.Now.RSS), bytesString(m.PeakRSS))
	fmt.Fprintf(b, "  off-heap %s, mapped %s, goroutines %d\n", bytesString(m.Now.OffHeap),
		bytesString(m.Now.Mapped), m.Now.Goroutines)
	fmt.Fprintf(b, "  growth: heap %s/s (r² %.2f), RSS %s/s (r² %.2f)\n",
		bytesString(int64(m.HeapGrowth.Slope)), m.HeapGrowth.R2, bytesString(int64(m.RSSGrowth.Slope)), m.RSSGrowth.R2)
}

func (r *Report) summarizeGC(b *strings.Builder) {
	g := r.GC
	fmt.Fprintf(b, "gc: %d cycles in %v (%.2f/s), CPU %s, %s per cycle, GOGC %d, limit %s\n",
		g.Cycles, g.Window.Round(1e6), g.CyclesPerSecond, percent(g.CPUFraction),
		secondsDuration(g.CPUPerCycle), g.GOGC, bytesString(g.MemoryLimit))
	fmt.Fprintf(b, "  pauses p50 %v p95 %v p99 %v max %v; scheduling latency p99 %v\n",
		g.Pauses.P50, g.Pauses.P95, g.Pauses.P99, g.Pauses.Max, g.SchedLatency.P99)
	fmt.Fprintf(b, "  allocation %s/s, %.0f objects/s; %s reclaimed per GC CPU second\n",
		bytesString(int64(g.AllocBytesPerSecond)), g.AllocObjectsPerSecond, bytesString(int64(g.ReclaimedPerCPUSecond)))
	for _, x := range g.Bottlenecks {
		fmt.Fprintf(b, "  bottleneck %s (severity %.2f): %s\n", x.Kind, x.Severity, x.Description)
	}
	for _, o := range g.Opportunities {
		fmt.Fprintf(b, "  proposal %s, %s risk%s: %s; GC CPU %s -> %s expected\n", o.Action, o.Risk,
			map[bool]string{true: " (Apply applies it)"}[o.Auto], o.Description,
			percent(g.CPUFraction), percent(o.ExpectedGCCPU))
	}
	if len(g.Opportunities) == 0 {
		fmt.Fprintf(b, "  no change proposed\n")
	}
	for _, a := range r.Applied {
		fmt.Fprintf(b, "  applied %s %d (was %d): GC CPU %s before, expected %s, ", a.Opportunity.Action,
			a.Opportunity.Value, a.Previous, percent(a.BeforeGCCPU), percent(a.Opportunity.ExpectedGCCPU))
		if !a.Measured {
			fmt.Fprintf(b, "not measured yet\n")
			continue
		}
		fmt.Fprintf(b, "measured %s (cycles per GiB %.1f -> %.1f)\n", percent(a.AfterGCCPU),
			a.BeforeCyclesPerGiB, a.AfterCyclesPerGiB)
	}
}

func (r *Report) summarizeLeaks(b *strings.Builder) {
	fmt.Fprintf(b, "leak suspects: %d\n", len(r.Leaks))
	for _, s := range r.Leaks {
		fmt.Fprintf(b, "  %s at %s: %s, seen %v\n", s.Kind, suspectWhere(s), suspectSize(s), s.Age.Round(1e6))
	}
}

func suspectWhere(s Suspect) string {
	if w := s.Site.String(); w != "" {
		return w
	}
	return "a site not known while the handles are reachable"
}

func suspectSize(s Suspect) string {
	switch s.Kind {
	case GoroutineLeak:
		return fmt.Sprintf("%d goroutines, %+.1f/s (r² %.2f)", s.Count, s.Growth.Slope, s.Growth.R2)
	case UnreachableGoroutines:
		return fmt.Sprintf("%d goroutines blocked for good", s.Count)
	case OffHeapLeak:
		return fmt.Sprintf("%s in %d handles collected without Close", bytesString(s.Bytes), s.Count)
	}
	return fmt.Sprintf("%s, growing %s/s (r² %.2f)", bytesString(s.Bytes), bytesString(int64(s.Growth.Slope)), s.Growth.R2)
}

func (r *Report) summarizeHotSpots(b *strings.Builder) {
	if len(r.HotSpots.ByBytes) == 0 {
		return
	}
	fmt.Fprintf(b, "allocation hot spots (by bytes):\n")
	for _, h := range r.HotSpots.ByBytes {
		fmt.Fprintf(b, "  %5s %10s %s\n", percent(h.ByteShare), bytesString(h.AllocBytes), h.Site)
	}
}

func (r *Report) summarizeSources(b *strings.Builder) {
	for _, a := range r.Allocators {
		fmt.Fprintf(b, "allocator %s: %s live of %s, efficiency %s, fragmentation %s, %.0f allocs/s, alloc time mean %v\n",
			a.Name, bytesString(a.Stats.LiveBytes), bytesString(a.Stats.Capacity), percent(a.Efficiency),
			percent(a.Fragmentation), a.AllocsPerSecond, a.AllocTime.Mean)
	}
	for _, p := range r.Pools {
		fmt.Fprintf(b, "pool %s: %d gets, hit rate %s\n", p.Name, p.Stats.Gets, percent(p.HitRate))
	}
	for _, c := range r.Caches {
		fmt.Fprintf(b, "cache %s: hit rate %s, hit latency %v, miss latency %v, %.1f evictions/s\n",
			c.Name, percent(c.HitRate), c.HitLatency.Mean, c.MissLatency.Mean, c.EvictionsPerSecond)
	}
}

// wallSpan returns end - start by the wall clock: a report read back from
// JSON has no monotonic readings, so the span of one still holding them
// would print differently from its copy's.
func wallSpan(start, end time.Time) time.Duration { return end.Round(0).Sub(start.Round(0)) }
