package cache

import "testing"

// Adaptive's window moves toward the tuner's best tuning by at most a tenth
// of the budget per epoch, and at least one unit: at a budget of 10 or less
// it must still reach the plain LRU tuning ("from 1% to all of it, which is
// plain LRU") when the tuner picks it. The step was once a share of the
// budget in floating point, truncated to whole units: at 10 the window
// stopped at 7 (0.7+0.1 = 0.7999…, truncated to 7), below 10 it stayed at 1
// for good, and on a recency workload (each key requested three times within
// a third of the budget) LRU hit 67% and Adaptive 3-19%.
func TestHostileAdaptiveSmallBudgetReachesLRU(t *testing.T) {
	for _, capacity := range []int{5, 10} {
		d := capacity / 3
		var trace []uint64
		for i := range 10_000 {
			trace = append(trace, uint64(i))
			if i >= d {
				trace = append(trace, uint64(i-d))
			}
			if i >= 2*d {
				trace = append(trace, uint64(i-2*d))
			}
		}
		replay := func(p Policy[uint64]) float64 {
			resident := map[uint64]bool{}
			hits, counted := 0, 0
			for i, k := range trace {
				hit := resident[k]
				if i >= len(trace)/2 { // after warm-up: the tuner has had 15k requests
					counted++
					if hit {
						hits++
					}
				}
				if hit {
					p.Access(k)
					continue
				}
				p.Add(k, 1)
				resident[k] = true
				for p.Weight() > int64(capacity) {
					v, _ := p.Victim()
					p.Remove(v)
					delete(resident, v)
				}
			}
			return float64(hits) / float64(counted)
		}
		adaptive := NewAdaptive[uint64](int64(capacity))
		a, l := replay(adaptive), replay(NewLRU[uint64]())
		tl := adaptive.(*keyed[uint64]).core.(*tinyLFU[uint64])
		if a < 0.8*l {
			t.Errorf("budget %d: Adaptive hits %.3f, LRU %.3f; the tuner's best tuning is %+v but the window is %d of %d",
				capacity, a, l, tl.tuner.tunings[tl.tuner.best], tl.maxWindow, capacity)
		}
	}
}
