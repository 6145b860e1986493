package sim_test

import (
	"errors"
	"testing"

	"github.com/tiermem/tiermem/cache"
	"github.com/tiermem/tiermem/internal/sim"
)

func TestOPT(t *testing.T) {
	tests := []struct {
		name     string
		keys     []uint64
		capacity int
		want     int
	}{
		{"empty", nil, 2, 0},
		{"cold misses only", []uint64{1, 2, 3}, 2, 0},
		{"all fit", []uint64{1, 2, 1, 2}, 2, 2},
		{"evicts the furthest", []uint64{1, 2, 3, 1, 2, 3}, 2, 2},
		// 3 is reused after 1 and 2: bypassing it keeps both hits
		{"bypass", []uint64{1, 2, 3, 1, 2, 3}, 2, 2},
		{"loop of 3 in 2", []uint64{1, 2, 3, 1, 2, 3, 1, 2, 3}, 2, 4},
		{"capacity 0", []uint64{1, 1}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sim.OPT(tt.keys, tt.capacity); got != tt.want {
				t.Fatalf("OPT = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestOPTBound checks on pseudo-random traces that OPT is never beaten by the
// other policies.
func TestOPTBound(t *testing.T) {
	keys := make([]uint64, 20000)
	x := uint64(7)
	for i := range keys {
		x = x*6364136223846793005 + 1442695040888963407
		keys[i] = (x >> 33) % 500
		if i%3 == 0 {
			keys[i] %= 40
		}
	}
	policies := []string{"opt", "lru", "lfu", "fifo", "s3fifo", "adaptive"}
	res, err := sim.Run(keys, []int{10, 100}, policies, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(res); i += len(policies) {
		for _, r := range res[i+1 : i+len(policies)] {
			if r.Hits > res[i].Hits {
				t.Errorf("size %d: %s has %d hits, OPT %d", r.Size, r.Policy, r.Hits, res[i].Hits)
			}
		}
	}
}

func TestReplayLRU(t *testing.T) {
	keys := []uint64{1, 2, 1, 3, 2, 1}
	// capacity 2: 1m 2m 1h 3m(evicts 2) 2m(evicts 1) 1m
	if got := sim.Replay(cache.NewLRU[uint64](), keys, 2, nil); got != 1 {
		t.Fatalf("hits %d, want 1", got)
	}
}

func TestRunErrors(t *testing.T) {
	if _, err := sim.Run([]uint64{1}, []int{0}, []string{"lru"}, nil); !errors.Is(err, cache.ErrCapacity) {
		t.Errorf("size 0: %v", err)
	}
	if _, err := sim.Run([]uint64{1}, []int{1}, []string{"clock"}, nil); !errors.Is(err, cache.ErrPolicy) {
		t.Errorf("unknown policy: %v", err)
	}
}

func TestRunProgress(t *testing.T) {
	keys := make([]uint64, 100_000)
	for i := range keys {
		keys[i] = uint64(i % 1000)
	}
	total := 0
	if _, err := sim.Run(keys, []int{10, 20}, []string{"lru", "opt"}, func(n int) { total += n }); err != nil {
		t.Fatal(err)
	}
	if total != 4*len(keys) {
		t.Fatalf("progress reported %d requests, want %d", total, 4*len(keys))
	}
}

// TestRunSizeAboveTheTrace: a size above the trace's length gives the
// results of a size equal to it, reported at the size asked for: a cache
// that holds every key requested never evicts. Replays run at the smaller
// size, so that memory grows with neither a huge size on a small trace
// (--sizes 1000000000 on four requests once ran out of memory) nor the
// trace.
func TestRunSizeAboveTheTrace(t *testing.T) {
	keys := []uint64{1, 2, 3, 1, 4, 2, 5, 1}
	policies := []string{"opt", "lru", "lfu", "fifo", "s3fifo", "adaptive"}
	res, err := sim.Run(keys, []int{len(keys), 1 << 40}, policies, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range policies {
		at, above := res[i], res[len(policies)+i]
		if above.Size != 1<<40 || above.Hits != at.Hits || above.Hits != 3 {
			t.Errorf("%s: %+v at the trace's length, %+v above it; want 3 hits at both, reported at size 1<<40", p, at, above)
		}
	}
}
