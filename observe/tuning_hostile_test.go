package observe

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

type forcedNode struct {
	next *forcedNode
	val  [2]int
}

var forcedLive *forcedNode

// A program whose collections are all forced (runtime.GC, or the
// debug.FreeOSMemory the demo calls) must not get GOGC raised by Apply:
// the model says cycles follow the allocation rate over the headroom GOGC
// allows, but GOGC changes nothing about a forced collection. The runtime
// counts forced and automatic cycles apart (/gc/cycles/forced,
// /gc/cycles/automatic); a GOGC proposal rests on the automatic ones.
func TestHostileForcedCollectionsDoNotRaiseGOGC(t *testing.T) {
	for range 1 << 20 {
		forcedLive = &forcedNode{next: forcedLive, val: [2]int{1, 2}} // a pointer-rich live heap for the GC to mark
	}
	defer func() { forcedLive = nil }()
	o, err := Start(&Options{Interval: 20 * time.Millisecond, GCCPUTarget: 0.02})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Stop()
	for range 20 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	r := o.Snapshot()
	for _, op := range r.GC.Opportunities {
		if op.Action == SetGCPercent && op.Auto {
			t.Errorf("%d cycles, all forced, GC CPU %.1f%%: Auto %s (expects %.1f%% of the CPU back)",
				r.GC.Cycles, 100*r.GC.CPUFraction, op.Description, 100*op.ExpectedBenefit)
		}
	}
}

// raiseLimit proposes a memory limit up to 80% of the machine counting
// off-heap and mapped memory, not as if the Go heap were all the process
// held: with 6 GiB of an 8 GiB machine held off the heap, raising the limit
// from 1 GiB to 2 GiB would bring the process to the whole machine, which
// is not "medium" risk.
func TestHostileRaiseLimitCountsOffHeapMemory(t *testing.T) {
	opts, err := (&Options{}).withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	const ram = 8 << 30
	t0 := time.Now()
	first := Sample{Time: t0, HeapLive: 800 << 20, HeapGoal: 1000 << 20, GCRoots: 1 << 20, GOGC: 100,
		MemoryLimit: 1 << 30, OffHeap: 6 << 30}
	last := first
	last.Time = t0.Add(10 * time.Second)
	last.GCCycles, last.AllocBytes = 100, 20<<30
	last.GCCPUSeconds, last.BusyCPUSeconds = 5, 10
	st := state{opts: opts, ram: ram, hotBytes: -1, start: t0, samples: []Sample{first, last}, from: first}
	r := st.report()
	found := false
	for _, op := range r.GC.Opportunities {
		if op.Action != SetMemoryLimit {
			continue
		}
		found = true
		total := op.Value + last.OffHeap + last.Mapped
		if float64(total) > 0.8*ram && op.Risk != HighRisk {
			t.Errorf("%s: the limit plus %s off-heap is %.0f%% of the machine's %s, rated %s risk",
				op.Description, bytesString(last.OffHeap), 100*float64(total)/ram, bytesString(ram), op.Risk)
		}
	}
	if !found {
		t.Logf("no SetMemoryLimit proposed (fine): %+v", r.GC.Opportunities)
	}
}

// The machine's memory less what off-heap and mapped memory hold is zero
// or less when they fill the machine, which is not "memory unknown": with
// 8 GiB off the heap on an 8 GiB machine and a 100 GiB GOMEMLIMIT, Apply
// must not raise GOGC unasked to a heap of 11 GiB rated "low risk" (the
// case of TestHostileAutoGOGCUnderALimitPastTheMachine, machine full).
func TestHostileAutoGOGCWhenOffHeapFillsTheMachine(t *testing.T) {
	opts, err := (&Options{}).withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	const ram = 8 << 30
	t0 := time.Now()
	first := Sample{Time: t0, HeapLive: 1 << 30, HeapGoal: 2 << 30, GCRoots: 1 << 20, GOGC: 100,
		MemoryLimit: 100 << 30, OffHeap: 6 << 30, Mapped: 2 << 30}
	last := first
	last.Time = t0.Add(10 * time.Second)
	last.GCCycles, last.AllocBytes = 100, 100<<30
	last.GCCPUSeconds, last.BusyCPUSeconds = 5, 10
	st := state{opts: opts, ram: ram, hotBytes: -1, start: t0, samples: []Sample{first, last}, from: first}
	r := st.report()
	for _, op := range r.GC.Opportunities {
		if op.Auto {
			t.Errorf("Auto %s: expected heap %s with %s off the heap on a machine of %s, rated %s risk",
				op.Description, bytesString(op.ExpectedHeap), bytesString(last.OffHeap+last.Mapped), bytesString(ram), op.Risk)
		}
	}
}

// Sample.GOGC and GC.GOGC say "-1: off". /gc/gogc:percent is a uint64
// holding uint64(-1) when GOGC is off, which must not read as
// math.MaxInt64: reports of a program running with GOGC=off (common with a
// memory limit) would show "GOGC 9223372036854775807".
func TestHostileGOGCOffReadsAsMinusOne(t *testing.T) {
	old := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(old)
	o, err := Start(&Options{Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := o.Stop()
	if r.GC.GOGC != -1 || r.Memory.Now.GOGC != -1 {
		t.Errorf("GOGC off: the report says GOGC %d (GC) and %d (Memory.Now), want -1", r.GC.GOGC, r.Memory.Now.GOGC)
	}
}

// The cost model scales only the automatic cycles' share of the GC's CPU:
// with every cycle forced nothing is proposed, with half of them forced
// the forced half's CPU stays in what raising GOGC is expected to leave.
func TestHostileForcedShareScalesTheModel(t *testing.T) {
	opts, err := (&Options{}).withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	proposal := func(forced uint64) (Opportunity, bool) {
		t0 := time.Now()
		first := Sample{Time: t0, HeapLive: 100 << 20, HeapGoal: 200 << 20, GCRoots: 1 << 20, GOGC: 100,
			MemoryLimit: math.MaxInt64}
		last := first
		last.Time = t0.Add(10 * time.Second)
		last.GCCycles, last.GCForcedCycles, last.AllocBytes = 100, forced, 20<<30
		last.GCCPUSeconds, last.BusyCPUSeconds = 2, 10 // the GC takes 20% of the CPU
		st := state{opts: opts, ram: 64 << 30, hotBytes: -1, start: t0, samples: []Sample{first, last}, from: first}
		for _, op := range st.report().GC.Opportunities {
			if op.Action == SetGCPercent {
				return op, true
			}
		}
		return Opportunity{}, false
	}
	if _, ok := proposal(0); !ok {
		t.Fatal("no GOGC proposed with no forced cycle")
	}
	if op, ok := proposal(100); ok {
		t.Errorf("every cycle forced: %s proposed, expecting %.1f%% of the CPU back", op.Description, 100*op.ExpectedBenefit)
	}
	op, ok := proposal(50)
	if !ok {
		t.Fatal("half the cycles forced: no GOGC proposed")
	}
	if op.ExpectedGCCPU < 0.1-1e-9 || op.ExpectedBenefit > 0.1+1e-9 {
		t.Errorf("half the cycles forced (10%% of the CPU): %s expects the GC at %.1f%%, %.1f%% back",
			op.Description, 100*op.ExpectedGCCPU, 100*op.ExpectedBenefit)
	}
}
