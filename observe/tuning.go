package observe

import (
	"fmt"
	"math"
)

// Bottleneck is a measured figure past its target.
type Bottleneck struct {
	Kind        string  `json:"kind"` // "gc-cpu", "gc-pause", "memory-limit", "alloc-sites"
	Description string  `json:"description"`
	Measured    float64 `json:"measured"`
	Target      float64 `json:"target"`
	// Severity is how far past the target, 0 to 1: 0 at the target, 1 at
	// twice the target or beyond (for memory-limit: from 90% to 100% of the
	// limit).
	Severity float64 `json:"severity"`
}

// Action is what an Opportunity does.
type Action string

const (
	SetGCPercent   Action = "SetGCPercent"   // debug.SetGCPercent(Value)
	SetMemoryLimit Action = "SetMemoryLimit" // debug.SetMemoryLimit(Value)
	UsePool        Action = "sync.Pool"      // reuse the values allocated at Site (alloc.Pool)
	MoveToWarm     Action = "MoveToWarm"     // keep the hot tier's values in the warm tier, off the Go heap
)

// Risk is how likely an Opportunity is to make things worse.
type Risk string

const (
	LowRisk    Risk = "low"    // a runtime setting whose heap stays well within memory
	MediumRisk Risk = "medium" // more memory at stake, or a code change
	HighRisk   Risk = "high"   // the heap could approach the machine's memory
)

// Opportunity is a change the analysis proposes, with what the GC cost
// model expects from it.
type Opportunity struct {
	Action      Action `json:"action"`
	Description string `json:"description"`
	Value       int64  `json:"value,omitempty"` // the new GOGC or limit
	Site        Site   `json:"site,omitzero"`   // for UsePool
	// ExpectedGCCPU is the GC CPU fraction the model expects afterwards;
	// ExpectedBenefit is the CPU share expected back (now less expected).
	ExpectedGCCPU   float64 `json:"expected_gc_cpu"`
	ExpectedBenefit float64 `json:"expected_benefit"`
	// ExpectedHeap is the heap size the model expects the GC to let the
	// program reach (0: unchanged).
	ExpectedHeap int64 `json:"expected_heap,omitempty"`
	Risk         Risk  `json:"risk"`
	// Auto says Apply applies it: a low-risk runtime setting.
	Auto bool `json:"auto"`
}

// analysis inputs that are not in GC itself.
type tuningInput struct {
	hot         HotSpots
	hotBytes    int64 // bytes the hot tier holds on the heap; -1 unknown
	ram         int64 // physical memory, or the cgroup's limit where lower; 0 unknown
	outside     int64 // bytes held outside the heap (off-heap and mapped memory): RAM the heap cannot have
	cpuTarget   float64
	pauseTarget float64 // seconds
}

const (
	minCycles         = 3    // fewer cycles in the window tell nothing about the GC's cost
	minBenefit        = 0.01 // proposals that win back less than 1% of the CPU are left out
	maxGOGC           = 1600
	poolShare         = 0.2 // a site allocating this share of the bytes is worth a pool
	concentratedTop   = 3   // "few sites": the top three ...
	concentratedShare = 0.5 // ... allocate half the bytes
	limitBound        = 0.9 // a heap goal past 90% of the limit: the limit drives the GC
)

// tune fills the bottlenecks and opportunities of g.
func tune(g *GC, in tuningInput) {
	g.Bottlenecks = bottlenecks(g, in)
	if !gcBusy(g, in) {
		return
	}
	var ops []Opportunity
	if o, ok := raiseGOGC(g, in); ok {
		ops = append(ops, o)
	}
	if o, ok := raiseLimit(g, in); ok {
		ops = append(ops, o)
	}
	ops = append(ops, pools(g, in)...)
	if o, ok := moveToWarm(g, in); ok {
		ops = append(ops, o)
	}
	g.Opportunities = ops
}

func bottlenecks(g *GC, in tuningInput) []Bottleneck {
	var out []Bottleneck
	if gcBusy(g, in) {
		out = append(out, Bottleneck{Kind: "gc-cpu", Measured: g.CPUFraction, Target: in.cpuTarget,
			Severity:    past(g.CPUFraction, in.cpuTarget),
			Description: fmt.Sprintf("the GC takes %.1f%% of the CPU, over the %.1f%% target%s", 100*g.CPUFraction, 100*in.cpuTarget, forcedNote(g))})
	}
	if p99 := g.Pauses.P99.Seconds(); p99 > in.pauseTarget {
		out = append(out, Bottleneck{Kind: "gc-pause", Measured: p99, Target: in.pauseTarget,
			Severity:    past(p99, in.pauseTarget),
			Description: fmt.Sprintf("GC pauses reach %v at p99, over the %v target", g.Pauses.P99, secondsDuration(in.pauseTarget))})
	}
	if g.limited() && float64(g.HeapGoal) > limitBound*float64(g.MemoryLimit) {
		r := float64(g.HeapGoal) / float64(g.MemoryLimit)
		out = append(out, Bottleneck{Kind: "memory-limit", Measured: r, Target: limitBound,
			Severity:    clamp01((r - limitBound) / (1 - limitBound)),
			Description: fmt.Sprintf("the heap goal is %.0f%% of the memory limit: the limit, not GOGC, paces the GC", 100*r)})
	}
	if s := topShare(in.hot, concentratedTop); gcBusy(g, in) && s >= concentratedShare {
		out = append(out, Bottleneck{Kind: "alloc-sites", Measured: s, Target: concentratedShare,
			Severity:    clamp01(past(g.CPUFraction, in.cpuTarget) * s),
			Description: fmt.Sprintf("%d functions allocate %.0f%% of the bytes", min(concentratedTop, len(in.hot.ByBytes)), 100*s)})
	}
	return out
}

// forcedNote says how many cycles the program forced, if any.
func forcedNote(g *GC) string {
	if g.ForcedCycles == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d of %d cycles forced by the program, which no GC setting changes)", g.ForcedCycles, g.Cycles)
}

// gcBusy reports whether the GC takes more than its target share of the
// CPU, over enough cycles (minCycles) for the share to mean something: a
// window of one cycle in an idle program can show any share.
func gcBusy(g *GC, in tuningInput) bool {
	return g.Cycles >= minCycles && g.CPUFraction > in.cpuTarget
}

// raiseGOGC proposes the GOGC that brings the GC's CPU to half its target,
// as far as memory allows.
func raiseGOGC(g *GC, in tuningInput) (Opportunity, bool) {
	if g.GOGC <= 0 || g.CPUFraction <= 0 {
		return Opportunity{}, false
	}
	want := float64(g.GOGC) * g.automaticCPU() / (in.cpuTarget / 2)
	gogc := int64(min(math.Ceil(want/50)*50, maxGOGC)) // capped as a float: a tiny target would overflow int64
	if gogc <= g.GOGC {
		return Opportunity{}, false
	}
	expected := g.predictCPU(gogc)
	if g.CPUFraction-expected < minBenefit {
		return Opportunity{}, false
	}
	heap := g.HeapLive + int64(g.headroom(gogc))
	risk := heapRisk(g, heap, in)
	return Opportunity{Action: SetGCPercent, Value: gogc, ExpectedGCCPU: expected,
		ExpectedBenefit: g.CPUFraction - expected, ExpectedHeap: heap, Risk: risk, Auto: risk == LowRisk,
		Description: fmt.Sprintf("raise GOGC from %d to %d: fewer collections, a heap of about %s", g.GOGC, gogc, bytesString(heap))}, true
}

// heapRisk rates a heap size against the memory limit, where it holds the
// heap within what the machine leaves it (in.ram less what off-heap and
// mapped memory hold, in.outside), or else against the machine's memory,
// counting what is held outside the heap: the process's whole footprint.
func heapRisk(g *GC, heap int64, in tuningInput) Risk {
	if g.limited() && (in.ram <= 0 || g.MemoryLimit <= in.ram-in.outside) {
		// The limit holds the heap down; what is at risk is the live heap
		// coming close to it, where the GC would run continuously.
		if float64(g.HeapLive+g.GCRoots) <= 0.5*float64(g.MemoryLimit) {
			return LowRisk
		}
		return MediumRisk
	}
	if in.ram <= 0 {
		return MediumRisk // the machine's memory is unknown
	}
	footprint := float64(heap) + float64(in.outside) // as floats: no overflow
	switch {
	case footprint <= 0.5*float64(in.ram):
		return LowRisk
	case footprint <= 0.8*float64(in.ram):
		return MediumRisk
	}
	return HighRisk
}

// raiseLimit proposes a higher memory limit when the limit paces the GC and
// the machine has room: up to twice the limit, as long as the limit and
// what is held outside the heap stay within 80% of the machine. Never
// automatic, since someone chose the limit.
func raiseLimit(g *GC, in tuningInput) (Opportunity, bool) {
	if !g.limited() || in.ram <= 0 || float64(g.HeapGoal) <= limitBound*float64(g.MemoryLimit) {
		return Opportunity{}, false
	}
	room := 0.8*float64(in.ram) - float64(in.outside)
	if room <= float64(g.MemoryLimit) {
		return Opportunity{}, false
	}
	limit := int64(min(2*float64(g.MemoryLimit), room))
	if limit <= g.MemoryLimit {
		return Opportunity{}, false
	}
	raised := *g
	raised.MemoryLimit = limit
	now, then := g.headroom(g.GOGC), raised.headroom(g.GOGC)
	if now <= 0 || then <= now {
		return Opportunity{}, false
	}
	expected := g.scaledCPU(now / then)
	if g.CPUFraction-expected < minBenefit {
		return Opportunity{}, false
	}
	risk := MediumRisk
	if heapRisk(&raised, limit, in) == HighRisk {
		risk = HighRisk
	}
	return Opportunity{Action: SetMemoryLimit, Value: limit, ExpectedGCCPU: expected,
		ExpectedBenefit: g.CPUFraction - expected, ExpectedHeap: limit, Risk: risk,
		Description: fmt.Sprintf("raise the memory limit from %s to %s", bytesString(g.MemoryLimit), bytesString(limit))}, true
}

// pools proposes reusing the values of the sites that allocate the most:
// cycles follow the allocation rate, so a site's share of the bytes is the
// share of the GC's CPU a pool there could save (at most).
func pools(g *GC, in tuningInput) []Opportunity {
	var out []Opportunity
	for _, h := range in.hot.ByBytes {
		if h.ByteShare < poolShare {
			break
		}
		benefit := g.automaticCPU() * h.ByteShare
		if benefit < minBenefit {
			continue
		}
		out = append(out, Opportunity{Action: UsePool, Site: h.Site, ExpectedGCCPU: g.CPUFraction - benefit,
			ExpectedBenefit: benefit, Risk: MediumRisk,
			Description: fmt.Sprintf("reuse what %s allocates (%.0f%% of the bytes) with a sync.Pool", h.Site, 100*h.ByteShare)})
	}
	return out
}

// moveToWarm proposes moving the hot tier off the Go heap when the memory
// limit paces the GC: the limit then leaves the hot bytes as headroom.
func moveToWarm(g *GC, in tuningInput) (Opportunity, bool) {
	if in.hotBytes <= 0 || !g.limited() || float64(g.HeapGoal) <= limitBound*float64(g.MemoryLimit) {
		return Opportunity{}, false
	}
	now := g.headroom(g.GOGC)
	moved := *g
	moved.HeapLive = max(g.HeapLive-in.hotBytes, 0)
	then := moved.headroom(g.GOGC)
	if now <= 0 || then <= now {
		return Opportunity{}, false
	}
	expected := g.scaledCPU(now / then)
	if g.CPUFraction-expected < minBenefit {
		return Opportunity{}, false
	}
	return Opportunity{Action: MoveToWarm, ExpectedGCCPU: expected, ExpectedBenefit: g.CPUFraction - expected,
		Risk:        MediumRisk,
		Description: fmt.Sprintf("move the hot tier's %s to the warm tier (off the Go heap)", bytesString(in.hotBytes))}, true
}

func topShare(h HotSpots, n int) float64 {
	var s float64
	for i := 0; i < n && i < len(h.ByBytes); i++ {
		s += h.ByBytes[i].ByteShare
	}
	return s
}

// past returns how far measured is beyond target, 0 to 1 (1 at twice it).
func past(measured, target float64) float64 {
	if target <= 0 {
		return 1
	}
	return clamp01(measured/target - 1)
}
