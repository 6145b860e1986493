package sim

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/tiermem/tiermem/cache"
)

// Opt names Bélády's optimal policy among the policies a Run compares.
const Opt = "opt"

// Result is the hit ratio of one policy at one size.
type Result struct {
	Policy string  // a cache.Kind name or Opt
	Size   int     // capacity in entries
	Hits   int     // requests that hit
	Ratio  float64 // hits / requests, 0 to 1
}

// progressStep is how many requests a replay handles between progress reports.
const progressStep = 1 << 16

// Replay returns the hits of policy p over keys with a capacity of capacity
// entries: each request is a Get, and a Set on a miss after which the policy
// evicts until it holds at most capacity entries. progress, if not nil, is called
// with the number of requests replayed since its last call.
func Replay(p cache.Policy[uint64], keys []uint64, capacity int, progress func(int)) int {
	hits := 0
	resident := make(map[uint64]struct{}, capacity)
	for i, k := range keys {
		if progress != nil && i%progressStep == progressStep-1 {
			progress(progressStep)
		}
		if _, ok := resident[k]; ok {
			hits++
			p.Access(k)
			continue
		}
		resident[k] = struct{}{}
		p.Add(k, 1)
		for len(resident) > capacity {
			v, _ := p.Victim()
			delete(resident, v)
			p.Remove(v)
		}
	}
	if progress != nil {
		progress(len(keys) % progressStep)
	}
	return hits
}

// Run replays keys for every policy (cache.Kind names or Opt) at every size, on
// all CPUs, and returns the results in size-major, policy-minor order. progress,
// if not nil, is called from any goroutine, serialized, with the number of
// requests replayed since its last call; the total is len(keys) times the number
// of results.
func Run(keys []uint64, sizes []int, policies []string, progress func(int)) ([]Result, error) {
	results := make([]Result, 0, len(sizes)*len(policies))
	for _, size := range sizes {
		if size < 1 {
			return nil, fmt.Errorf("sim: size %d: %w", size, cache.ErrCapacity)
		}
		for _, name := range policies {
			if name != Opt {
				if _, err := cache.ParseKind(name); err != nil {
					return nil, fmt.Errorf("sim: %w", err)
				}
			}
			results = append(results, Result{Policy: name, Size: size})
		}
	}
	var mu sync.Mutex
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
				r.Hits = replayNamed(r.Policy, keys, r.Size, report)
				if len(keys) > 0 {
					r.Ratio = float64(r.Hits) / float64(len(keys))
				}
			}
		})
	}
	for i := range results {
		work <- i
	}
	close(work)
	wg.Wait()
	return results, nil
}

// replayNamed replays one policy by name; the name has been checked.
func replayNamed(name string, keys []uint64, size int, progress func(int)) int {
	if name == Opt {
		hits := OPT(keys, size)
		progress(len(keys))
		return hits
	}
	kind, _ := cache.ParseKind(name)
	p, _ := cache.NewPolicy[uint64](kind, int64(size))
	return Replay(p, keys, size, progress)
}
