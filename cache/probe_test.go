//go:build !race

package cache_test

import (
	"strconv"
	"testing"

	"github.com/tiermem/tiermem/cache/probe"
	"github.com/tiermem/tiermem/internal/sim"
)

// TestHitRatioProbes replays the generated probe traces (popular sets that
// shift in phases, scans, one-hit wonders) and checks that Adaptive is never
// more than 1 point under LRU on any of them. It runs with make hitratio.
func TestHitRatioProbes(t *testing.T) {
	for _, p := range probe.Probes() {
		keys := p.Keys()
		for _, size := range p.Sizes {
			t.Run(p.Name+"/"+strconv.Itoa(size), func(t *testing.T) {
				t.Parallel()
				res, err := sim.Run(keys, []int{size}, []string{"lru", "adaptive"}, nil)
				if err != nil {
					t.Fatal(err)
				}
				lru, adaptive := 100*res[0].Ratio, 100*res[1].Ratio
				if adaptive < lru-1 {
					t.Errorf("Adaptive %.2f is more than 1 point under LRU %.2f", adaptive, lru)
				}
				t.Logf("Adaptive %.2f, LRU %.2f", adaptive, lru)
			})
		}
	}
}
