// Package observe measures a Go process's memory and garbage collector,
// finds probable leaks and allocation hot spots, and proposes (and applies)
// GC settings, from the real runtime: runtime/metrics, the runtime's heap
// and goroutine profiles, /proc/self, and the counters of packages memory,
// alloc and cache.
//
//	o, err := observe.Start(nil) // samples every second in the background
//	if err != nil { ... }
//	runWorkload()
//	r, err := o.Stop()
//	fmt.Print(r.Summary())
//
// An [Optimizer] can also run for the life of a program: [Optimizer.Snapshot]
// returns a [Report] at any time, and [Optimizer.Apply] puts the low-risk
// proposals in force, after which reports show the measured effect beside
// the estimate.
//
// What a report holds, and where it comes from:
//
//   - Memory: heap live and goal, the runtime's total, RSS, off-heap and
//     mapped bytes held through package memory, goroutines, and their trends
//     over a bounded ring of samples. Sampling reads runtime/metrics, which
//     does not stop the world (runtime.ReadMemStats does).
//   - GC: cycles, the GC's share of the CPU, pause and scheduling-latency
//     quantiles, allocation rates; bottlenecks (each with a severity computed
//     from the figures) and opportunities (SetGCPercent, SetMemoryLimit, a
//     sync.Pool at a site, moving the hot tier off the heap), each with the
//     benefit a cost model built on the measurements expects, and a risk.
//     The model: a cycle costs what it measured; cycles follow the
//     allocation rate over the heap growth GOGC (or the memory limit)
//     allows between two collections.
//   - Leaks ([Suspect]): allocation sites whose in-use bytes grow steadily
//     across heap profiles (a line explains the growth, and it has not
//     levelled off), goroutines piling up at one stack (and, with
//     Options.LeakProfile where the runtime has Go 1.26's goroutine leak
//     profile, goroutines it proved blocked for good), memory from package
//     memory collected without Close (its leak reporter names the site), and
//     off-heap bytes growing steadily. A cache still filling when the
//     profiles are compared looks like a leak until it levels off: compare
//     over a window longer than its filling.
//   - Hot spots: the functions that allocate the most bytes and objects
//     over the profiles compared.
//   - Allocators, pools and caches named in [Options]: efficiency,
//     fragmentation, pool hit rate, allocation time ([TimedAllocator]),
//     cache hit rate, hit and miss latency ([TimedGet]), eviction rate.
//
// Heap figures come from the runtime's sampled heap profile
// (runtime.MemProfileRate, one sample per 512 KiB by default), scaled as
// pprof scales them: they are estimates, good for sites that allocate
// megabytes. The runtime publishes a heap profile at the end of a GC cycle,
// so a program that does not allocate shows no new profile.
//
// [MemoryLimitFor] and [ApplyMemoryLimit] derive a soft memory limit from a
// hot tier's budget.
package observe
