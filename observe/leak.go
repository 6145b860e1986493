package observe

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// LeakKind says what a Suspect is made of.
type LeakKind string

const (
	// HeapLeak: an allocation site whose in-use bytes grew steadily across
	// the heap profiles compared.
	HeapLeak LeakKind = "heap"
	// GoroutineLeak: goroutines piling up at one stack.
	GoroutineLeak LeakKind = "goroutines"
	// OffHeapLeak: memory from the memory package whose handle was garbage
	// collected without Close (memory's leak reporter, with the site of the
	// Allocate, Reserve or Map call).
	OffHeapLeak LeakKind = "off-heap"
	// UnreachableGoroutines: goroutines the runtime's goroutine leak
	// profile proved blocked for good, on a channel or lock no running
	// goroutine can reach (Options.LeakProfile, where the runtime has it).
	UnreachableGoroutines LeakKind = "goroutines-unreachable"
	// OffHeapGrowth: off-heap and mapped bytes held through the memory
	// package grew steadily; the handles are still reachable, so the site is
	// not known (the leak reporter names it once they are dropped unclosed).
	OffHeapGrowth LeakKind = "off-heap-growth"
)

// Suspect is a probable leak.
type Suspect struct {
	Kind LeakKind `json:"kind"`
	// Site is where the memory was allocated, or where the goroutines wait
	// (their first frame outside the runtime). Empty for OffHeapGrowth.
	Site Site `json:"site"`
	// Stack holds, for goroutines, the functions of their stack, innermost
	// first.
	Stack []string `json:"stack,omitempty"`
	// Bytes held now (heap, off-heap); Count is objects, goroutines or
	// handles.
	Bytes int64 `json:"bytes"`
	Count int64 `json:"count"`
	// Growth is in bytes (goroutines for GoroutineLeak) per second, with how
	// well a straight line fits it.
	Growth Trend `json:"growth"`
	// Age is how long the suspect has been seen: since the first compared
	// profile in which it appeared, or since the first leak report.
	Age time.Duration `json:"age"`
}

// ownPackage is this package's import path prefix: its own bounded buffers
// grow while they fill, and are never reported.
const ownPackage = "github.com/tiermem/tiermem/observe."

// heapSuspects returns the sites whose in-use bytes grow steadily across
// the profiles, the fastest first.
func heapSuspects(profiles []heapProfile, minBytes int64) []Suspect {
	if len(profiles) < minProfiles {
		return nil
	}
	xs := secondsOf(len(profiles), func(i int) time.Time { return profiles[i].time })
	last := profiles[len(profiles)-1]
	var out []Suspect
	ys := make([]float64, len(profiles))
	for id, b := range last.sites {
		site := last.names[id]
		if b.inUseBytes < minBytes || strings.HasPrefix(site.Function, ownPackage) {
			continue
		}
		first := -1
		for i := range profiles {
			ys[i] = float64(profiles[i].at(id).inUseBytes)
			if first < 0 && ys[i] > 0 {
				first = i
			}
		}
		if t, ok := linearGrowth(xs, ys, float64(minBytes)); ok {
			out = append(out, Suspect{Kind: HeapLeak, Site: site, Bytes: b.inUseBytes,
				Count: b.inUseObjects, Growth: t, Age: last.time.Sub(profiles[first].time)})
		}
	}
	return byGrowth(out)
}

// goroutineSuspects returns the stacks at which goroutines pile up.
func goroutineSuspects(profiles []goroutineProfile, minGoroutines int) []Suspect {
	if len(profiles) < minProfiles {
		return nil
	}
	xs := secondsOf(len(profiles), func(i int) time.Time { return profiles[i].time })
	last := profiles[len(profiles)-1]
	var out []Suspect
	ys := make([]float64, len(profiles))
	for stack, n := range last.stacks {
		if n < int64(minGoroutines) {
			continue
		}
		first := -1
		for i, p := range profiles {
			ys[i] = float64(p.stacks[stack])
			if first < 0 && ys[i] > 0 {
				first = i
			}
		}
		if t, ok := linearGrowth(xs, ys, float64(minGoroutines)); ok {
			out = append(out, Suspect{Kind: GoroutineLeak, Site: siteOfStack(stack[:]),
				Stack: stackFunctions(stack, 8), Count: n, Growth: t,
				Age: last.time.Sub(profiles[first].time)})
		}
	}
	return byGrowth(out)
}

// offHeapGrowth returns a suspect when the off-heap and mapped bytes of the
// samples taken since `since` grow steadily.
func offHeapGrowth(samples []Sample, since time.Time, minBytes int64) []Suspect {
	i, _ := slices.BinarySearchFunc(samples, since, func(s Sample, t time.Time) int { return s.Time.Compare(t) })
	samples = samples[i:]
	if len(samples) < minProfiles {
		return nil
	}
	xs := secondsOf(len(samples), func(i int) time.Time { return samples[i].Time })
	ys := make([]float64, len(samples))
	for i, s := range samples {
		ys[i] = float64(s.OffHeap + s.Mapped)
	}
	t, ok := linearGrowth(xs, ys, float64(minBytes))
	if !ok {
		return nil
	}
	last := samples[len(samples)-1]
	return []Suspect{{Kind: OffHeapGrowth, Bytes: last.OffHeap + last.Mapped, Growth: t,
		Age: last.Time.Sub(samples[0].Time)}}
}

// secondsOf returns the times of n points as seconds since the first.
func secondsOf(n int, at func(int) time.Time) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = at(i).Sub(at(0)).Seconds()
	}
	return xs
}

func byGrowth(s []Suspect) []Suspect {
	slices.SortFunc(s, func(a, b Suspect) int {
		return cmp.Or(cmp.Compare(b.Growth.Slope, a.Growth.Slope), cmp.Compare(a.Site.Function, b.Site.Function))
	})
	return s
}
