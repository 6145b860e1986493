package observe

import (
	"math"
	"runtime/metrics"
	"time"

	"github.com/tiermem/tiermem/memory"
)

// Sample is one reading of the runtime and of the process, taken without
// stopping the world. Counters (Alloc*, Free*, GCCycles, *CPUSeconds) are
// cumulative since the process started: rates come from two samples.
type Sample struct {
	Time time.Time `json:"time"`

	HeapLive    int64 `json:"heap_live"`    // bytes marked live by the last GC
	HeapGoal    int64 `json:"heap_goal"`    // heap size at which the next GC ends
	Runtime     int64 `json:"runtime"`      // all memory the Go runtime has mapped
	RSS         int64 `json:"rss"`          // resident set of the process (0 where /proc is absent)
	OffHeap     int64 `json:"off_heap"`     // bytes held through memory.Allocate/Reserve, not yet closed
	Mapped      int64 `json:"mapped"`       // bytes of files mapped through memory.Map, not yet closed
	GCRoots     int64 `json:"gc_roots"`     // stack and global bytes the GC scans (they count in the heap goal)
	Goroutines  int64 `json:"goroutines"`   // goroutines alive
	GOGC        int64 `json:"gogc"`         // GOGC in force (-1: off)
	MemoryLimit int64 `json:"memory_limit"` // GOMEMLIMIT in force (math.MaxInt64: none)

	GCCycles uint64 `json:"gc_cycles"` // completed GC cycles
	// GCForcedCycles is the completed cycles the program forced
	// (runtime.GC, debug.FreeOSMemory, a goroutine leak profile): GOGC and
	// the memory limit pace only the others.
	GCForcedCycles uint64 `json:"gc_forced_cycles"`
	AllocBytes     uint64 `json:"alloc_bytes"`   // bytes allocated on the heap
	AllocObjects   uint64 `json:"alloc_objects"` // objects allocated on the heap
	FreeObjects    uint64 `json:"free_objects"`  // objects the GC freed

	// GCCPUSeconds is CPU spent by the GC (assists, dedicated workers and
	// pauses; idle-time mark work, which takes no CPU from the program, is
	// left out); BusyCPUSeconds is all CPU the Go program used (the
	// runtime's estimate: GOMAXPROCS × wall time minus idle).
	GCCPUSeconds   float64 `json:"gc_cpu_seconds"`
	BusyCPUSeconds float64 `json:"busy_cpu_seconds"`
}

// metric names, in the order of the reader's slice.
var metricNames = [...]string{
	"/gc/heap/live:bytes",
	"/gc/heap/goal:bytes",
	"/memory/classes/total:bytes",
	"/gc/scan/stack:bytes",
	"/gc/scan/globals:bytes",
	"/sched/goroutines:goroutines",
	"/gc/gogc:percent",
	"/gc/gomemlimit:bytes",
	"/gc/cycles/automatic:gc-cycles",
	"/gc/cycles/forced:gc-cycles",
	"/gc/heap/allocs:bytes",
	"/gc/heap/allocs:objects",
	"/gc/heap/frees:objects",
	"/cpu/classes/gc/total:cpu-seconds",
	"/cpu/classes/gc/mark/idle:cpu-seconds",
	"/cpu/classes/total:cpu-seconds",
	"/cpu/classes/idle:cpu-seconds",
	"/sched/pauses/total/gc:seconds",
	"/sched/latencies:seconds",
}

const (
	mHeapLive = iota
	mHeapGoal
	mRuntime
	mStack
	mGlobals
	mGoroutines
	mGOGC
	mLimit
	mAutoCycles
	mForcedCycles
	mAllocBytes
	mAllocObjects
	mFreeObjects
	mGCCPU
	mGCIdle
	mTotalCPU
	mIdleCPU
	mPauses
	mSchedLatency
)

// reader reads the runtime metrics into a slice it reuses. Not safe for
// concurrent use: the Optimizer's lock guards it.
type reader struct {
	s []metrics.Sample
}

func newReader() *reader {
	r := &reader{s: make([]metrics.Sample, len(metricNames))}
	for i, name := range metricNames {
		r.s[i].Name = name
	}
	return r
}

// read takes a sample now; the two histograms it read stay in the reader
// until the next read (see histograms).
func (r *reader) read(now time.Time) Sample {
	metrics.Read(r.s)
	ms := memory.ReadStats()
	return Sample{
		Time:           now,
		HeapLive:       r.int(mHeapLive),
		HeapGoal:       r.int(mHeapGoal),
		Runtime:        r.int(mRuntime),
		RSS:            readRSS(),
		OffHeap:        ms.OffHeapBytes,
		Mapped:         ms.MappedBytes,
		GCRoots:        r.int(mStack) + r.int(mGlobals),
		Goroutines:     r.int(mGoroutines),
		GOGC:           int64(r.uint(mGOGC)), // uint64(-1) when off: -1
		MemoryLimit:    r.int(mLimit),
		GCCycles:       r.uint(mAutoCycles) + r.uint(mForcedCycles),
		GCForcedCycles: r.uint(mForcedCycles),
		AllocBytes:     r.uint(mAllocBytes),
		AllocObjects:   r.uint(mAllocObjects),
		FreeObjects:    r.uint(mFreeObjects),
		GCCPUSeconds:   r.float(mGCCPU) - r.float(mGCIdle),
		BusyCPUSeconds: r.float(mTotalCPU) - r.float(mIdleCPU),
	}
}

// histograms returns copies of the pause and scheduler-latency histograms
// of the last read.
func (r *reader) histograms() (pauses, sched histogram) {
	return histogramOf(r.s[mPauses].Value), histogramOf(r.s[mSchedLatency].Value)
}

func (r *reader) uint(i int) uint64 {
	if r.s[i].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return r.s[i].Value.Uint64()
}

func (r *reader) int(i int) int64 { return int64(min(r.uint(i), math.MaxInt64)) }

func (r *reader) float(i int) float64 {
	if r.s[i].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return r.s[i].Value.Float64()
}

// completedCycles returns the GC cycles completed so far, as
// Sample.GCCycles counts them.
func completedCycles() uint64 {
	s := []metrics.Sample{{Name: metricNames[mAutoCycles]}, {Name: metricNames[mForcedCycles]}}
	metrics.Read(s)
	var n uint64
	for _, v := range s {
		if v.Value.Kind() == metrics.KindUint64 {
			n += v.Value.Uint64()
		}
	}
	return n
}
