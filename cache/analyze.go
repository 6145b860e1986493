package cache

import "fmt"

// Analysis is Analyze's report on how well the cache serves its workload.
type Analysis struct {
	Stats Stats
	// HitRatio is Stats.HitRatio: hits over Gets, 0 to 1.
	HitRatio float64
	// Effectiveness is the hit ratio over the hit ratio a budget twice as large
	// would reach, estimated from a sampled miss-ratio curve: 1 means more
	// budget would not help, 0.5 means doubling it would double the hits. It
	// is 1 when there were too few requests to estimate.
	Effectiveness float64
	// Curve estimates the hit ratio at other budgets, as multiples of the
	// current one (0.5, 1, 2, 4), from the sampled miss-ratio curve of an LRU
	// cache moved to pass through the measured hit ratio. Empty when there
	// were too few requests.
	Curve []CurvePoint
	// Recommendations are plain sentences about what to change, if anything.
	Recommendations []string
}

// CurvePoint is one estimated point of the hit-ratio curve.
type CurvePoint struct {
	Budget   float64 // multiple of the current budget
	HitRatio float64 // estimated hit ratio, 0 to 1
}

// Analyze returns the cache's hit ratio, its effectiveness and recommendations.
// It takes the cache's lock briefly.
func (c *Cache[K, V]) Analyze() Analysis {
	c.mu.Lock()
	c.drainLocked()
	c.mu.Unlock()
	st := c.Stats()
	a := Analysis{Stats: st, HitRatio: st.HitRatio(), Effectiveness: 1}
	c.mu.Lock()
	entries := float64(max(st.Len, 1))
	var lru []float64
	for _, m := range budgetMultiples {
		r, ok := c.analyzer.hitRatio(m * entries)
		if !ok {
			break
		}
		lru = append(lru, r)
	}
	ceiling := c.analyzer.ceiling()
	c.mu.Unlock()
	if len(lru) == len(budgetMultiples) {
		for i, m := range budgetMultiples {
			a.Curve = append(a.Curve, CurvePoint{m, project(a.HitRatio, lru[1], lru[i], ceiling, m)})
		}
		if twice := a.Curve[2].HitRatio; twice > 0 {
			a.Effectiveness = min(a.HitRatio/twice, 1)
		}
	}
	a.Recommendations = recommend(a, ceiling)
	return a
}

// project estimates the policy's hit ratio at m times the budget from its
// measured ratio now and the LRU curve: the policy keeps its advantage over
// LRU, in proportion to what LRU leaves below the ceiling (the share of
// requests that are not first sightings, which no budget can serve). A larger
// budget never estimates lower than now, a smaller never higher.
func project(now, lruNow, lruAt, ceiling, m float64) float64 {
	est := lruAt
	if ceiling > lruNow {
		est += (now - lruNow) * (ceiling - lruAt) / (ceiling - lruNow)
	}
	switch {
	case m > 1:
		est = max(est, now)
	case m < 1:
		est = min(est, now)
	default:
		est = now
	}
	return min(max(est, 0), 1)
}

// budgetMultiples are the budgets of Analysis.Curve; index 1 is the current one.
var budgetMultiples = []float64{0.5, 1, 2, 4}

// recommend writes the recommendations for an analysis. ceiling is the share
// of requests that were not first sightings, the hit ratio of an unbounded
// cache: when it is well above the 4× point, the workload reuses keys beyond
// the curve's reach, and a flat curve is no reason to shrink the budget.
func recommend(a Analysis, ceiling float64) []string {
	st := a.Stats
	if st.Hits+st.Misses < 1000 || len(a.Curve) == 0 {
		return []string{"Not enough requests yet to judge the budget: analyze again after a few thousand Gets."}
	}
	var out []string
	pct := func(r float64) string { return fmt.Sprintf("%.0f%%", 100*r) }
	half, twice, four := a.Curve[0].HitRatio, a.Curve[2].HitRatio, a.Curve[3].HitRatio
	full := st.Weight >= st.MaxWeight*9/10 || st.Evicted > 0
	beyond := ceiling-four >= 0.05 // keys come back, but past a 4× budget
	switch {
	case full && twice-a.HitRatio >= 0.05:
		out = append(out, fmt.Sprintf("A 2× budget would raise the hit rate from %s to %s.", pct(a.HitRatio), pct(twice)))
	case full && four-a.HitRatio >= 0.05:
		out = append(out, fmt.Sprintf("A 2× budget would add little (%s to %s), but a 4× budget would reach %s.", pct(a.HitRatio), pct(twice), pct(four)))
	case full && beyond:
		out = append(out, fmt.Sprintf("The workload reuses keys beyond 4× the budget: %s of the requests ask for a key again, but a 4× budget would hit only %s; only a much larger budget would serve them.", pct(ceiling), pct(four)))
	case a.HitRatio-half < 0.01 && st.Evicted > 0:
		out = append(out, fmt.Sprintf("Half the budget would keep the hit rate near %s: the cache is larger than this workload needs.", pct(a.HitRatio)))
	}
	if !full {
		out = append(out, fmt.Sprintf("The cache uses %d of its budget of %d and has evicted nothing: the budget is not what limits the hit rate.", st.Weight, st.MaxWeight))
	}
	if st.Expired > st.Evicted && st.Expired > st.Hits/10 {
		out = append(out, fmt.Sprintf("%d entries expired, more than were evicted: a longer TTL would keep reusable entries longer.", st.Expired))
	}
	if a.HitRatio < 0.05 && four-a.HitRatio < 0.05 && !beyond {
		out = append(out, "The workload rarely asks for a key again within reach of any budget: caching it may not pay.")
	}
	if len(out) == 0 {
		out = append(out, fmt.Sprintf("The budget fits the workload: the hit rate is %s and a 2× budget would add under 5 points.", pct(a.HitRatio)))
	}
	return out
}
