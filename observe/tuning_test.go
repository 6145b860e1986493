package observe

import (
	"math"
	"testing"
	"time"
)

const gib = 1 << 30

// busyGC is a GC taking 30% of the CPU on a 100 MiB live heap at GOGC 100,
// without a memory limit.
func busyGC() GC {
	return GC{CPUFraction: 0.30, HeapLive: 100 << 20, HeapGoal: 200 << 20, GOGC: 100,
		MemoryLimit: math.MaxInt64, Cycles: 100}
}

func input() tuningInput {
	return tuningInput{ram: 64 * gib, hotBytes: -1, cpuTarget: 0.10, pauseTarget: 0.010}
}

func find(ops []Opportunity, a Action) (Opportunity, bool) {
	for _, o := range ops {
		if o.Action == a {
			return o, true
		}
	}
	return Opportunity{}, false
}

func TestPredictCPUFollowsHeadroom(t *testing.T) {
	g := busyGC()
	if got := g.predictCPU(200); math.Abs(got-0.15) > 1e-9 {
		t.Fatalf("GOGC 100 -> 200 predicts %.3f, want half of 0.30", got)
	}
	g.MemoryLimit = 250 << 20 // room for 137.5 MiB above live at most
	if got := g.predictCPU(800); got < 0.30*100/137.5-1e-9 {
		t.Fatalf("with a limit the model must cap the headroom: predicted %.3f", got)
	}
}

func TestTuneRaisesGOGCWhenMemoryAllows(t *testing.T) {
	g := busyGC()
	tune(&g, input())
	o, ok := find(g.Opportunities, SetGCPercent)
	if !ok {
		t.Fatalf("no SetGCPercent among %+v", g.Opportunities)
	}
	if o.Value <= 100 || !o.Auto || o.Risk != LowRisk || o.ExpectedGCCPU > 0.05+1e-9 || o.ExpectedBenefit < 0.25 {
		t.Fatalf("opportunity %+v: want GOGC above 100, low risk, GC CPU to 5%%", o)
	}
	if len(g.Bottlenecks) == 0 || g.Bottlenecks[0].Kind != "gc-cpu" || g.Bottlenecks[0].Severity != 1 {
		t.Fatalf("bottlenecks %+v: want gc-cpu at severity 1 (three times the target)", g.Bottlenecks)
	}
}

func TestTuneRisksTheMachinesMemory(t *testing.T) {
	g := busyGC()
	in := input()
	in.ram = 2 * gib // the raised heap would pass half of it
	g.HeapLive, g.HeapGoal = 600<<20, 1200<<20
	tune(&g, in)
	o, ok := find(g.Opportunities, SetGCPercent)
	if !ok || o.Auto || o.Risk == LowRisk {
		t.Fatalf("opportunity %+v: a heap past half the RAM is not low risk", o)
	}
	in.ram = 0 // unknown memory: never automatic
	g = busyGC()
	tune(&g, in)
	if o, _ := find(g.Opportunities, SetGCPercent); o.Auto {
		t.Fatalf("applied automatically without knowing the machine's memory: %+v", o)
	}
}

func TestTuneLimitBoundCannotRaiseGOGC(t *testing.T) {
	g := busyGC()
	g.MemoryLimit = 110 << 20
	g.HeapGoal = 104 << 20
	tune(&g, input())
	if _, ok := find(g.Opportunities, SetGCPercent); ok {
		t.Fatalf("raising GOGC cannot help a GC paced by the limit: %+v", g.Opportunities)
	}
	for _, o := range g.Opportunities {
		if o.Auto {
			t.Fatalf("automatic opportunity %+v under a limit someone chose", o)
		}
	}
	if o, ok := find(g.Opportunities, SetMemoryLimit); !ok || o.Value <= g.MemoryLimit || o.Risk != MediumRisk {
		t.Fatalf("want a medium-risk raise of the limit, got %+v", g.Opportunities)
	}
	var kinds []string
	for _, b := range g.Bottlenecks {
		kinds = append(kinds, b.Kind)
	}
	if len(kinds) != 2 || kinds[1] != "memory-limit" {
		t.Fatalf("bottlenecks %v, want gc-cpu and memory-limit", kinds)
	}
}

func TestTuneNothingWhenTheGCIsCheap(t *testing.T) {
	g := busyGC()
	g.CPUFraction = 0.04
	tune(&g, input())
	if len(g.Opportunities) != 0 || len(g.Bottlenecks) != 0 {
		t.Fatalf("a GC at 4%% of the CPU: %+v %+v", g.Bottlenecks, g.Opportunities)
	}
	g = busyGC()
	g.GOGC = -1 // off: only the limit collects, nothing to raise
	tune(&g, input())
	if _, ok := find(g.Opportunities, SetGCPercent); ok {
		t.Fatal("raising GOGC=off")
	}
}

func TestTunePoolsAndWarmTier(t *testing.T) {
	g := busyGC()
	in := input()
	site := Site{Function: "main.decode", File: "main.go", Line: 12}
	in.hot = HotSpots{ByBytes: []HotSpot{{Site: site, ByteShare: 0.6}, {ByteShare: 0.1}}}
	tune(&g, in)
	o, ok := find(g.Opportunities, UsePool)
	if !ok || o.Site != site || o.Auto || math.Abs(o.ExpectedBenefit-0.18) > 1e-9 {
		t.Fatalf("pool opportunity %+v: want one at %v saving 60%% of 30%%", o, site)
	}
	var alloc bool
	for _, b := range g.Bottlenecks {
		alloc = alloc || b.Kind == "alloc-sites"
	}
	if !alloc {
		t.Fatalf("bottlenecks %+v: 70%% of the bytes from two sites", g.Bottlenecks)
	}
	g = busyGC()
	g.MemoryLimit, g.HeapGoal = 110<<20, 104<<20
	in.hotBytes = 80 << 20
	tune(&g, in)
	if o, ok := find(g.Opportunities, MoveToWarm); !ok || o.Auto || o.ExpectedGCCPU >= g.CPUFraction {
		t.Fatalf("want moving the hot tier off the heap, got %+v", g.Opportunities)
	}
}

func TestPauseBottleneck(t *testing.T) {
	g := busyGC()
	g.CPUFraction = 0.01
	g.Pauses = Distribution{Count: 10, P99: 15 * time.Millisecond}
	tune(&g, input())
	if len(g.Bottlenecks) != 1 || g.Bottlenecks[0].Kind != "gc-pause" || math.Abs(g.Bottlenecks[0].Severity-0.5) > 1e-9 {
		t.Fatalf("bottlenecks %+v: want gc-pause at severity 0.5", g.Bottlenecks)
	}
}
