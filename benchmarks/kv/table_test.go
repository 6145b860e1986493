package kv

import (
	"fmt"
	"slices"
	"strings"
)

// throughputPhases are the columns of the throughput table, in order.
var throughputPhases = []struct{ key, title string }{
	{"load", "Set (load)"},
	{"get1", "Get, 1 goroutine"},
	{"get2", "Get, 2 goroutines"},
	{"mixed", "mixed 80/20, 2 goroutines"},
}

// baselines are the peers each tiermem row is divided by.
var baselines = []string{"fastcache", "freecache"}

// tables formats the results of every size as Markdown.
func tables(sizes []int, names []string, results map[int]map[string][]result) string {
	var b strings.Builder
	for _, n := range sizes {
		byStore := results[n]
		fmt.Fprintf(&b, "\n### %s entries, %d round(s)\n\n", thousands(n), len(byStore[names[0]]))
		throughputTable(&b, names, byStore)
		ratioTable(&b, names, byStore)
		cpuTable(&b, names, byStore)
		memoryTable(&b, names, byStore)
	}
	return b.String()
}

func throughputTable(b *strings.Builder, names []string, byStore map[string][]result) {
	b.WriteString("Millions of operations a second, median (min–max):\n\n| store |")
	for _, ph := range throughputPhases {
		b.WriteString(" " + ph.title + " |")
	}
	b.WriteString(" Get 2 / Get 1 |\n|---|---|---|---|---|---|\n")
	for _, name := range names {
		rs := byStore[name]
		fmt.Fprintf(b, "| %s |", name)
		for _, ph := range throughputPhases {
			b.WriteString(" " + spread(collect(rs, func(r result) float64 { return r.Phases[ph.key].MopsPerSec() }), "%.2f") + " |")
		}
		scale := collect(rs, func(r result) float64 { return r.Phases["get2"].MopsPerSec() / r.Phases["get1"].MopsPerSec() })
		b.WriteString(" " + spread(scale, "%.2f×") + " |\n")
	}
}

func ratioTable(b *strings.Builder, names []string, byStore map[string][]result) {
	b.WriteString("\nEach tiermem store against a peer, median over median (≥ 1.0× is the target for the warm tier):\n\n| store | against |")
	for _, ph := range throughputPhases {
		b.WriteString(" " + ph.title + " |")
	}
	b.WriteString("\n|---|---|---|---|---|---|\n")
	for _, name := range names {
		if !strings.HasPrefix(name, "tiermem") {
			continue
		}
		for _, peer := range baselines {
			if byStore[peer] == nil {
				continue
			}
			fmt.Fprintf(b, "| %s | %s |", name, peer)
			for _, ph := range throughputPhases {
				mops := func(r result) float64 { return r.Phases[ph.key].MopsPerSec() }
				fmt.Fprintf(b, " %.2f× |", median(collect(byStore[name], mops))/median(collect(byStore[peer], mops)))
			}
			b.WriteString("\n")
		}
	}
}

// cpuTable prints the process's CPU time per operation of each phase: what
// an operation costs, which a shared machine's other load disturbs less than
// it disturbs throughput.
func cpuTable(b *strings.Builder, names []string, byStore map[string][]result) {
	b.WriteString("\nCPU time of the whole process per operation, µs, median (min–max); lower is better:\n\n| store |")
	for _, ph := range throughputPhases {
		b.WriteString(" " + ph.title + " |")
	}
	b.WriteString("\n|---|---|---|---|---|\n")
	for _, name := range names {
		fmt.Fprintf(b, "| %s |", name)
		for _, ph := range throughputPhases {
			b.WriteString(" " + spread(collect(byStore[name], func(r result) float64 { return r.Phases[ph.key].CPUMicrosPerOp() }), "%.2f") + " |")
		}
		b.WriteString("\n")
	}
}

func memoryTable(b *strings.Builder, names []string, byStore map[string][]result) {
	b.WriteString("\nMemory and collector, medians (GC pause p99 and GC CPU of the mixed load; pauses are the upper bounds of runtime/metrics buckets):\n\n")
	b.WriteString("| store | RSS after load, MiB | × payload | GC cycles: load / Get 1 / Get 2 / mixed | GC pause p99, mixed | GC CPU, mixed | allocs/op: Set / Get / mixed |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, name := range names {
		rs := byStore[name]
		used := func(r result) float64 { return float64(r.RSSLoaded - r.RSSBefore) }
		fmt.Fprintf(b, "| %s | %.0f | %.2f× |", name, median(collect(rs, used))/(1<<20),
			median(collect(rs, func(r result) float64 { return used(r) / float64(r.payload()) })))
		var cycles, allocs []string
		for _, ph := range []string{"load", "get1", "get2", "mixed"} {
			cycles = append(cycles, fmt.Sprintf("%.0f", median(collect(rs, func(r result) float64 { return float64(r.Phases[ph].GCCycles) }))))
		}
		for _, ph := range []string{"load", "get1", "mixed"} {
			allocs = append(allocs, fmt.Sprintf("%.2f", median(collect(rs, func(r result) float64 {
				return float64(r.Phases[ph].Allocs) / float64(r.Phases[ph].Ops)
			}))))
		}
		p99 := median(collect(rs, func(r result) float64 { return r.Phases["mixed"].PauseP99 }))
		gcCPU := median(collect(rs, func(r result) float64 { return r.Phases["mixed"].GCCPU }))
		fmt.Fprintf(b, " %s | %s | %.2f %% | %s |\n", strings.Join(cycles, " / "), duration(p99), 100*gcCPU, strings.Join(allocs, " / "))
	}
}

func collect(rs []result, f func(result) float64) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = f(r)
	}
	return out
}

// median returns the median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// spread formats the median of xs, and their range when there is more than one.
func spread(xs []float64, format string) string {
	m := fmt.Sprintf(format, median(xs))
	if len(xs) < 2 {
		return m
	}
	return fmt.Sprintf("%s (%s–%s)", m, fmt.Sprintf(format, slices.Min(xs)), fmt.Sprintf(format, slices.Max(xs)))
}

// duration formats seconds as µs or ms; "–" for none.
func duration(s float64) string {
	switch {
	case s == 0:
		return "–"
	case s < 1e-3:
		return fmt.Sprintf("%.0f µs", s*1e6)
	}
	return fmt.Sprintf("%.2f ms", s*1e3)
}

// thousands writes n with a thin space between groups of three digits.
func thousands(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}
