package sim_test

import (
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/tiermem/tiermem/internal/sim"
)

// generated is a Trace computed on the fly: request i is key(i). It counts
// the replays that read it.
type generated struct {
	n       int64
	key     func(i int64) uint64
	short   int64 // a replay ends this many requests early: the trace "changed"
	replays int
	// midway, if not nil, is called halfway through each replay.
	midway func()
}

func (g *generated) Len() int64 { return g.n }

func (g *generated) Keys(yield func(uint64) bool) error {
	g.replays++ // RunTrace's workers replay concurrently only without opt; see countReplays
	for i := range g.n - g.short {
		if i == g.n/2 && g.midway != nil {
			g.midway()
		}
		if !yield(g.key(i)) {
			return nil
		}
	}
	return nil
}

// loop returns a generated trace of n requests over m keys in a loop.
func loop(n, m int64) *generated {
	return &generated{n: n, key: func(i int64) uint64 { return uint64(i % m) }}
}

// TestRunTraceStreams replays a million generated requests with the policies
// that need no future: the results must equal those of the trace in memory,
// each replay must read the trace anew, and none may hold it (8 MB as keys).
func TestRunTraceStreams(t *testing.T) {
	const n = 1 << 20
	g := loop(n, 300)
	keys := make([]uint64, n)
	for i := range keys {
		keys[i] = g.key(int64(i))
	}
	policies := []string{"lru", "fifo"}
	want, err := sim.Run(keys, []int{200, 400}, policies, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys = nil
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1)) // one replay at a time: g counts unsynchronized
	base := liveHeap()
	var peak uint64
	g.midway = func() { peak = max(peak, liveHeap()) }
	got, err := sim.RunTrace(g, []int{200, 400}, policies, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("streamed %v, in memory %v", got, want)
	}
	if g.replays != len(want) {
		t.Errorf("%d replays of the trace, want one per result (%d)", g.replays, len(want))
	}
	if peak > base+2<<20 {
		t.Errorf("the live heap grew from %d to %d bytes during the replays: the trace was held in memory", base, peak)
	}
}

// liveHeap returns the bytes of live heap objects after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestRunTraceOptTooLong asks opt to replay a trace of 10^11 requests: it
// must be refused before the trace is read or anything allocated.
func TestRunTraceOptTooLong(t *testing.T) {
	g := &generated{n: 1e11, key: func(int64) uint64 { t.Fatal("the trace was read"); return 0 }}
	for _, o := range []*sim.Options{nil, {MaxRequests: 1000}} {
		_, err := sim.RunTrace(g, []int{10}, []string{"lru", "opt"}, o)
		if !errors.Is(err, sim.ErrTooLong) {
			t.Fatalf("%+v: error %v, want ErrTooLong", o, err)
		}
	}
	g.n = 1001
	if _, err := sim.RunTrace(g, []int{10}, []string{"opt"}, &sim.Options{MaxRequests: 1000}); !errors.Is(err, sim.ErrTooLong) {
		t.Fatalf("1001 requests over a limit of 1000: %v", err)
	}
}

// TestRunTraceOptReadsOnce checks that with opt the trace is read once and
// every policy replays it from memory, with the same results as Run.
func TestRunTraceOptReadsOnce(t *testing.T) {
	g := loop(5000, 30)
	keys := make([]uint64, g.n)
	for i := range keys {
		keys[i] = g.key(int64(i))
	}
	want, _ := sim.Run(keys, []int{10, 20}, []string{"opt", "lru"}, nil)
	got, err := sim.RunTrace(g, []int{10, 20}, []string{"opt", "lru"}, &sim.Options{MaxRequests: 5000})
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, %v; want %v", got, err, want)
	}
	if g.replays != 1 {
		t.Errorf("the trace was read %d times, want once", g.replays)
	}
}

// TestRunTraceChanged replays a trace that ends before its Len, as files
// rewritten during a run do.
func TestRunTraceChanged(t *testing.T) {
	for _, policies := range [][]string{{"lru"}, {"opt"}} {
		g := loop(100, 10)
		g.short = 1
		if _, err := sim.RunTrace(g, []int{5}, policies, nil); !errors.Is(err, sim.ErrChanged) {
			t.Errorf("%v: error %v, want ErrChanged", policies, err)
		}
	}
}

// TestOPTMatchesDefinition compares OPT with a direct, quadratic reading of
// its definition on pseudo-random traces long enough for the heap to be
// pruned many times.
func TestOPTMatchesDefinition(t *testing.T) {
	x := uint64(11)
	for _, capacity := range []int{1, 3, 17} {
		keys := make([]uint64, 6000)
		for i := range keys {
			x = x*6364136223846793005 + 1442695040888963407
			keys[i] = (x >> 33) % 60
		}
		if got, want := sim.OPT(keys, capacity), belady(keys, capacity); got != want {
			t.Errorf("capacity %d: OPT = %d hits, the definition %d", capacity, got, want)
		}
	}
}

// belady is OPT with bypass computed the slow way: on a miss with a full
// cache, the key (resident or new) next requested furthest away is left out.
func belady(keys []uint64, capacity int) int {
	nextOf := func(i int, k uint64) int {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] == k {
				return j
			}
		}
		return len(keys)
	}
	resident := map[uint64]bool{}
	hits := 0
	for i, k := range keys {
		if resident[k] {
			hits++
			continue
		}
		if nextOf(i, k) == len(keys) {
			continue
		}
		if len(resident) < capacity {
			resident[k] = true
			continue
		}
		far, farNext := k, nextOf(i, k)
		for r := range resident {
			if n := nextOf(i, r); n > farNext || (n == farNext && r < far) {
				far, farNext = r, n
			}
		}
		if far != k {
			delete(resident, far)
			resident[k] = true
		}
	}
	return hits
}
