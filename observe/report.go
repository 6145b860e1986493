package observe

import (
	"slices"
	"time"

	"github.com/tiermem/tiermem/alloc"
	"github.com/tiermem/tiermem/cache"
)

// Report is what an Optimizer measured and concluded: every figure comes
// from runtime/metrics, the runtime's heap and goroutine profiles, the
// memory package's counters and the sources named in Options. It is a plain
// value: it shares nothing with the Optimizer and may be kept, encoded as
// JSON (encoding/json; ReadReport reads it back) or printed with Summary.
type Report struct {
	Kind    string    `json:"kind"`    // always ReportKind
	Version int       `json:"version"` // ReportVersion
	Start   time.Time `json:"start"`   // when the Optimizer started
	End     time.Time `json:"end"`     // when the report was made

	Memory     Memory             `json:"memory"`
	GC         GC                 `json:"gc"`
	Leaks      []Suspect          `json:"leaks"`
	HotSpots   HotSpots           `json:"hot_spots"`
	Allocators []AllocatorMetrics `json:"allocators,omitempty"`
	Pools      []PoolMetrics      `json:"pools,omitempty"`
	Caches     []CacheMetrics     `json:"caches,omitempty"`
	// Applied lists what Apply changed, each with its measured effect.
	Applied []Applied `json:"applied,omitempty"`
	// Samples is the ring of samples, oldest first: the time series.
	Samples []Sample `json:"samples"`
}

// ReportKind and ReportVersion identify a report's JSON.
const (
	ReportKind    = "tiermem.observe.report"
	ReportVersion = 1
)

// Memory is the process's memory now, at its peak, and how it trends
// across the ring of samples.
type Memory struct {
	Now          Sample `json:"now"`
	PeakHeapLive int64  `json:"peak_heap_live"`
	PeakRSS      int64  `json:"peak_rss"`
	// Growth of the live heap, the RSS and the off-heap bytes, per second,
	// fitted over the samples.
	HeapGrowth    Trend `json:"heap_growth"`
	RSSGrowth     Trend `json:"rss_growth"`
	OffHeapGrowth Trend `json:"off_heap_growth"`
}

// AllocatorMetrics is the seed's pool metrics for an allocator of package
// alloc.
type AllocatorMetrics struct {
	Name  string      `json:"name"`
	Stats alloc.Stats `json:"stats"`
	// Efficiency is requested over reserved bytes (1 - internal
	// fragmentation); Fragmentation is the external fragmentation.
	Efficiency      float64      `json:"efficiency"`
	Fragmentation   float64      `json:"fragmentation"`
	AllocsPerSecond float64      `json:"allocs_per_second"` // since Start
	AllocTime       LatencyStats `json:"alloc_time"`        // with a TimedAllocator
}

// PoolMetrics is the hit rate of a pool: Gets served by a reused value.
type PoolMetrics struct {
	Name    string    `json:"name"`
	Stats   PoolStats `json:"stats"`
	HitRate float64   `json:"hit_rate"`
}

// CacheMetrics is the seed's caching metrics for a cache of package cache.
type CacheMetrics struct {
	Name               string       `json:"name"`
	Stats              cache.Stats  `json:"stats"`
	HitRate            float64      `json:"hit_rate"`
	HitLatency         LatencyStats `json:"hit_latency"`
	MissLatency        LatencyStats `json:"miss_latency"`
	EvictionsPerSecond float64      `json:"evictions_per_second"` // since Start
}

// Applied is an Opportunity that Apply put in force, with the GC's CPU
// measured before it and after it (Measured once the samples after it span
// at least three GC cycles: the runtime updates its CPU estimates at the
// end of each cycle).
type Applied struct {
	Opportunity Opportunity `json:"opportunity"`
	At          time.Time   `json:"at"`
	Previous    int64       `json:"previous"` // the GOGC or limit it replaced
	BeforeGCCPU float64     `json:"before_gc_cpu"`
	// CyclesPerGiB is GC cycles per GiB allocated, before and after: the
	// GC's frequency with the allocation rate factored out.
	BeforeCyclesPerGiB float64 `json:"before_cycles_per_gib"`
	Measured           bool    `json:"measured"`
	AfterGCCPU         float64 `json:"after_gc_cpu"`
	AfterCyclesPerGiB  float64 `json:"after_cycles_per_gib"`
	// MeasuredBenefit is BeforeGCCPU - AfterGCCPU, beside
	// Opportunity.ExpectedBenefit.
	MeasuredBenefit float64 `json:"measured_benefit"`
}

// clone returns a copy of r that shares no list with it.
func (r Report) clone() Report {
	r.GC.Bottlenecks = slices.Clone(r.GC.Bottlenecks)
	r.GC.Opportunities = slices.Clone(r.GC.Opportunities)
	r.Leaks = slices.Clone(r.Leaks)
	for i := range r.Leaks {
		r.Leaks[i].Stack = slices.Clone(r.Leaks[i].Stack)
	}
	r.HotSpots.ByBytes = slices.Clone(r.HotSpots.ByBytes)
	r.HotSpots.ByObjects = slices.Clone(r.HotSpots.ByObjects)
	r.Allocators = slices.Clone(r.Allocators)
	r.Pools = slices.Clone(r.Pools)
	r.Caches = slices.Clone(r.Caches)
	r.Applied = slices.Clone(r.Applied)
	r.Samples = slices.Clone(r.Samples)
	return r
}

// cyclesPerGiB returns GC cycles per GiB allocated between two samples.
func cyclesPerGiB(first, last Sample) float64 {
	allocated := float64(last.AllocBytes-min(first.AllocBytes, last.AllocBytes)) / (1 << 30)
	if allocated <= 0 {
		return 0
	}
	return float64(last.GCCycles-min(first.GCCycles, last.GCCycles)) / allocated
}
