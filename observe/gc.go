package observe

import (
	"math"
	"time"
)

// GC is the garbage collector's record over a report's window, measured
// from runtime/metrics, with the analysis built on it. The window runs to
// the report from Start or the latest Apply (what Apply changed is judged
// on what came after it), or from the oldest sample in the ring where that
// is later (ten minutes back at the defaults); the pause and latency
// distributions always run from Start or the latest Apply.
type GC struct {
	Window time.Duration `json:"window"` // between the first and last sample compared
	Cycles uint64        `json:"cycles"` // GC cycles completed in the window
	// ForcedCycles is how many of them the program forced (runtime.GC,
	// debug.FreeOSMemory, a goroutine leak profile): no GC setting and no
	// allocation saved changes those.
	ForcedCycles    uint64  `json:"forced_cycles"`
	CyclesPerSecond float64 `json:"cycles_per_second"` // collection frequency
	// CPUFraction is the GC's share of the CPU the program used, 0 to 1.
	CPUFraction float64 `json:"cpu_fraction"`
	// CPUPerCycle is the CPU seconds one cycle costs, the cost model's unit.
	CPUPerCycle float64 `json:"cpu_per_cycle"`
	// ReclaimedPerCPUSecond is the efficiency the seed asks for: bytes the GC
	// freed (allocated in the window less the live heap's growth) per CPU
	// second it spent.
	ReclaimedPerCPUSecond float64 `json:"reclaimed_per_cpu_second"`

	Pauses       Distribution `json:"pauses"`        // stop-the-world pauses
	SchedLatency Distribution `json:"sched_latency"` // time goroutines waited to run

	AllocBytesPerSecond   float64 `json:"alloc_bytes_per_second"`
	AllocObjectsPerSecond float64 `json:"alloc_objects_per_second"`
	FreeObjectsPerSecond  float64 `json:"free_objects_per_second"`

	HeapLive    int64 `json:"heap_live"`
	HeapGoal    int64 `json:"heap_goal"`
	GCRoots     int64 `json:"gc_roots"`
	GOGC        int64 `json:"gogc"`
	MemoryLimit int64 `json:"memory_limit"` // math.MaxInt64: none

	Bottlenecks   []Bottleneck  `json:"bottlenecks"`
	Opportunities []Opportunity `json:"opportunities"`
}

// measureGC fills the measured part of GC from the first and last samples of
// a window and the pause and latency histograms of the same window.
func measureGC(first, last Sample, pauses, sched histogram) GC {
	g := GC{
		Window:       last.Time.Sub(first.Time),
		Cycles:       last.GCCycles - min(first.GCCycles, last.GCCycles),
		ForcedCycles: last.GCForcedCycles - min(first.GCForcedCycles, last.GCForcedCycles),
		Pauses:       pauses.distribution(),
		SchedLatency: sched.distribution(),
		HeapLive:     last.HeapLive, HeapGoal: last.HeapGoal, GCRoots: last.GCRoots,
		GOGC: last.GOGC, MemoryLimit: last.MemoryLimit,
	}
	secs := g.Window.Seconds()
	gcCPU := last.GCCPUSeconds - first.GCCPUSeconds
	if busy := last.BusyCPUSeconds - first.BusyCPUSeconds; busy > 0 {
		g.CPUFraction = clamp01(gcCPU / busy)
	}
	if g.Cycles > 0 {
		g.CPUPerCycle = gcCPU / float64(g.Cycles)
	}
	allocated := float64(last.AllocBytes - min(first.AllocBytes, last.AllocBytes))
	if gcCPU > 0 {
		g.ReclaimedPerCPUSecond = max(allocated-float64(last.HeapLive-first.HeapLive), 0) / gcCPU
	}
	if secs > 0 {
		g.CyclesPerSecond = float64(g.Cycles) / secs
		g.AllocBytesPerSecond = allocated / secs
		g.AllocObjectsPerSecond = float64(last.AllocObjects-min(first.AllocObjects, last.AllocObjects)) / secs
		g.FreeObjectsPerSecond = float64(last.FreeObjects-min(first.FreeObjects, last.FreeObjects)) / secs
	}
	return g
}

// limited reports whether a memory limit is in force.
func (g *GC) limited() bool { return g.MemoryLimit > 0 && g.MemoryLimit < math.MaxInt64 }

// headroom returns the heap growth between two collections that GOGC
// allows, capped by what the memory limit leaves (limitShare of it, less
// the live heap and roots): the cost model's denominator. Cycles per second
// are the allocation rate over it.
func (g *GC) headroom(gogc int64) float64 {
	base := float64(g.HeapLive + g.GCRoots)
	h := math.Inf(1)
	if gogc >= 0 {
		h = base * float64(gogc) / 100
	}
	if g.limited() {
		h = math.Min(h, limitShare*float64(g.MemoryLimit)-base)
	}
	return math.Max(h, 0)
}

// predictCPU returns the GC CPU fraction the cost model expects at gogc:
// the cost of a cycle follows the live heap, which does not change, so the
// CPU of the automatic cycles scales with their number, that is inversely
// with the headroom; forced cycles stay as they are.
func (g *GC) predictCPU(gogc int64) float64 {
	now, then := g.headroom(g.GOGC), g.headroom(gogc)
	if now <= 0 || then <= 0 {
		return g.CPUFraction
	}
	return g.scaledCPU(now / then)
}

// automaticCPU returns the share of the CPU that the automatic cycles
// took, those that the allocation rate, GOGC and the memory limit pace:
// the GC's share split by cycles, since each costs about the same (it
// marks the same live heap).
func (g *GC) automaticCPU() float64 {
	if g.Cycles == 0 {
		return g.CPUFraction
	}
	auto := g.Cycles - min(g.ForcedCycles, g.Cycles)
	return g.CPUFraction * float64(auto) / float64(g.Cycles)
}

// scaledCPU returns the GC's CPU share once the automatic cycles are
// scaled by f (fewer of them: f below 1).
func (g *GC) scaledCPU(f float64) float64 {
	auto := g.automaticCPU()
	return clamp01(g.CPUFraction - auto + auto*f)
}

// limitShare is the share of the memory limit the model lets the heap
// reach: the runtime starts collecting harder a little before the limit.
const limitShare = 0.95

func clamp01(x float64) float64 { return math.Min(math.Max(x, 0), 1) }
