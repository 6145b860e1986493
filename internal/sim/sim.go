package sim

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/tiermem/tiermem/cache"
)

// Opt names Bélády's optimal policy among the policies a Run compares.
const Opt = "opt"

// DefaultMaxRequests is the longest trace opt holds in memory when
// Options.MaxRequests is 0: 100 million requests, 1.6 GB.
const DefaultMaxRequests = 100_000_000

// Result is the hit ratio of one policy at one size.
type Result struct {
	Policy string  // a cache.Kind name or Opt
	Size   int     // capacity in entries
	Hits   int     // requests that hit
	Ratio  float64 // hits / requests, 0 to 1
}

// Options configure RunTrace. A nil *Options means the defaults.
type Options struct {
	// Progress, if not nil, is called from any goroutine, serialized, with
	// the number of requests replayed since its last call; the total is the
	// trace's Len times the number of results.
	Progress func(n int)
	// MaxRequests bounds the trace opt holds in memory (16 bytes a request);
	// 0 means DefaultMaxRequests. It applies only when opt is among the
	// policies: the others replay the trace as it streams, in bounded memory
	// whatever its length.
	MaxRequests int64
}

// progressStep is how many requests a replay handles between progress reports.
const progressStep = 1 << 16

// Replay returns the hits of policy p over keys with a capacity of capacity
// entries: each request is a Get, and a Set on a miss after which the policy
// evicts until it holds at most capacity entries. progress, if not nil, is called
// with the number of requests replayed since its last call.
func Replay(p cache.Policy[uint64], keys []uint64, capacity int, progress func(int)) int {
	hits, _, _ := replay(p, Slice(keys), capacity, progress)
	return hits
}

// replay is Replay over any Trace; it also returns the requests replayed and
// the error that stopped the trace.
func replay(p cache.Policy[uint64], t Trace, capacity int, progress func(int)) (hits int, n int64, err error) {
	resident := make(map[uint64]struct{}, min(int64(capacity), t.Len())) // never more keys than requests
	err = t.Keys(func(k uint64) bool {
		n++
		if progress != nil && n%progressStep == 0 {
			progress(progressStep)
		}
		if _, ok := resident[k]; ok {
			hits++
			p.Access(k)
			return true
		}
		resident[k] = struct{}{}
		p.Add(k, 1)
		for len(resident) > capacity {
			v, _ := p.Victim()
			delete(resident, v)
			p.Remove(v)
		}
		return true
	})
	if progress != nil {
		progress(int(n % progressStep))
	}
	return hits, n, err
}

// Run replays keys for every policy (cache.Kind names or Opt) at every size, on
// all CPUs, and returns the results in size-major, policy-minor order. progress,
// if not nil, is called from any goroutine, serialized, with the number of
// requests replayed since its last call; the total is len(keys) times the number
// of results. It is RunTrace over keys with no bound on opt.
func Run(keys []uint64, sizes []int, policies []string, progress func(int)) ([]Result, error) {
	return RunTrace(Slice(keys), sizes, policies, &Options{Progress: progress, MaxRequests: math.MaxInt64})
}

// Check returns the error RunTrace would return for sizes and policies:
// none of either, a size below 1, an unknown policy. Callers check their
// flags with it before reading a trace.
func Check(sizes []int, policies []string) error {
	if len(sizes) == 0 || len(policies) == 0 {
		return fmt.Errorf("sim: %d sizes and %d policies: want at least one of each", len(sizes), len(policies))
	}
	for _, size := range sizes {
		if size < 1 {
			return fmt.Errorf("sim: size %d: %w", size, cache.ErrCapacity)
		}
	}
	for _, name := range policies {
		if name != Opt {
			if _, err := cache.ParseKind(name); err != nil {
				return fmt.Errorf("sim: %w", err)
			}
		}
	}
	return nil
}

// RunTrace replays t for every policy (cache.Kind names or Opt) at every
// size, on all CPUs, and returns the results in size-major, policy-minor
// order. Without opt every replay streams t (trace.Files reads its files
// again for each), so memory does not grow with the trace. With opt, which
// needs the future of every request, t is read into memory once and shared by
// every replay; a trace longer than o.MaxRequests is ErrTooLong, before
// anything is allocated.
func RunTrace(t Trace, sizes []int, policies []string, o *Options) ([]Result, error) {
	if err := Check(sizes, policies); err != nil {
		return nil, err
	}
	var opts Options
	if o != nil {
		opts = *o
	}
	if opts.MaxRequests == 0 {
		opts.MaxRequests = DefaultMaxRequests
	}
	var next []int
	if slices.Contains(policies, Opt) {
		keys, err := load(t, opts.MaxRequests)
		if err != nil {
			return nil, err
		}
		t, next = keys, nextUse(keys)
	}
	results := make([]Result, 0, len(sizes)*len(policies))
	for _, size := range sizes {
		for _, name := range policies {
			results = append(results, Result{Policy: name, Size: size})
		}
	}
	return results, runAll(results, t, next, opts.Progress)
}

// runAll fills in results on all CPUs; next is nil unless opt is among them.
func runAll(results []Result, t Trace, next []int, progress func(int)) error {
	var mu sync.Mutex // protects progress calls and firstErr
	var firstErr error
	report := func(n int) {
		if progress != nil {
			mu.Lock()
			progress(n)
			mu.Unlock()
		}
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range work {
				r := &results[i]
				hits, err := replayNamed(r.Policy, t, next, r.Size, report)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("sim: %s at size %d: %w", r.Policy, r.Size, err)
				}
				mu.Unlock()
				r.Hits = hits
				if t.Len() > 0 {
					r.Ratio = float64(hits) / float64(t.Len())
				}
			}
		})
	}
	for i := range results {
		work <- i
	}
	close(work)
	wg.Wait()
	return firstErr
}

// traceSize returns the capacity a replay of t at size needs: size, or the
// trace's length when that is smaller, since a cache that holds every key
// requested never evicts and hits alike at any larger size. Policies and
// replays allocate for their capacity, so that a size of 10^9 entries (a
// zero too many) on a small trace would otherwise take gigabytes, on every
// CPU at once.
func traceSize(size int, t Trace) int {
	return int(min(int64(size), max(t.Len(), 1)))
}

// replayNamed replays one policy by name; the name has been checked, and t is
// a Slice with next its next uses when name is Opt.
func replayNamed(name string, t Trace, next []int, size int, progress func(int)) (int, error) {
	size = traceSize(size, t)
	if name == Opt {
		return opt(t.(Slice), next, size, progress), nil
	}
	kind, _ := cache.ParseKind(name)
	p, _ := cache.NewPolicy[uint64](kind, int64(size))
	hits, n, err := replay(p, t, size, progress)
	if err == nil && n != t.Len() {
		err = fmt.Errorf("%w: %d requests, %d counted before", ErrChanged, n, t.Len())
	}
	return hits, err
}
