// Package probe generates synthetic cache traces that probe a replacement
// policy where real traces are thin: a popular set that shifts in phases,
// scans mixed into a skewed workload, and one-hit wonders. Every trace is
// deterministic: the same parameters give the same keys on every run and
// platform (math/rand/v2's PCG, seeded).
package probe

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Probe is one generated trace and the cache sizes, in entries, to replay it at.
type Probe struct {
	Name  string
	Sizes []int
	Keys  func() []uint64 // generates the trace; each call returns a new slice
}

// Probes returns the probe traces that the cache package's guard test and the
// live replay in benchmarks/ run: each is about a million requests or less.
func Probes() []Probe {
	return []Probe{
		{"phases-zipf", []int{5000, 8000}, func() []uint64 { return Phases(1, 10, 10000, 100000, 0.8) }},
		{"phases-uniform", []int{5000, 8000}, func() []uint64 { return Phases(2, 10, 10000, 100000, 0) }},
		{"phases-short", []int{1000, 1600}, func() []uint64 { return Phases(3, 40, 2000, 20000, 0.6) }},
		{"scans", []int{1000, 5000}, func() []uint64 { return Scans(4, 20000, 1000000, 20000, 5000, 0.9) }},
		{"one-hit", []int{1000, 5000}, func() []uint64 { return OneHit(5, 20000, 1000000, 0.3, 0.9) }},
	}
}

// Phases returns phases × requests keys: each phase requests its own set of
// keys distinct keys (no key is shared between phases), by Zipf(s) ranks over
// a shuffled order (s = 0 is uniform).
func Phases(seed uint64, phases, keys, requests int, s float64) []uint64 {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	z := newZipf(keys, s)
	out := make([]uint64, 0, phases*requests)
	for ph := range phases {
		order := r.Perm(keys)
		for range requests {
			out = append(out, uint64(ph*keys+order[z.rank(r)]))
		}
	}
	return out
}

// Scans returns requests keys drawn by Zipf(s) over hot keys, with a scan of
// scanLen keys never requested before inserted after every every requests.
func Scans(seed uint64, hot, requests, every, scanLen int, s float64) []uint64 {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	z := newZipf(hot, s)
	next := uint64(hot) // the next never-requested key
	out := make([]uint64, 0, requests+requests/every*scanLen)
	for i := range requests {
		out = append(out, uint64(z.rank(r)))
		if (i+1)%every == 0 {
			for range scanLen {
				out = append(out, next)
				next++
			}
		}
	}
	return out
}

// OneHit returns requests keys: a share of them (0 to 1) keys requested once
// and never again, scattered at random, and the rest drawn by Zipf(s) over hot
// keys.
func OneHit(seed uint64, hot, requests int, share, s float64) []uint64 {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	z := newZipf(hot, s)
	next := uint64(hot)
	out := make([]uint64, 0, requests)
	for range requests {
		if r.Float64() < share {
			out = append(out, next)
			next++
			continue
		}
		out = append(out, uint64(z.rank(r)))
	}
	return out
}

// zipf draws ranks 0..n-1 with probability proportional to 1/(rank+1)^s, by
// inverting the cumulative distribution (any s ≥ 0; math/rand's Zipf needs s > 1).
type zipf struct{ cdf []float64 }

func newZipf(n int, s float64) zipf {
	cdf := make([]float64, n)
	sum := 0.0
	for i := range cdf {
		sum += 1 / math.Pow(float64(i+1), s)
		cdf[i] = sum
	}
	for i := range cdf {
		cdf[i] /= sum
	}
	return zipf{cdf}
}

// rank returns a random rank.
func (z zipf) rank(r *rand.Rand) int {
	i, _ := slices.BinarySearch(z.cdf, r.Float64())
	return min(i, len(z.cdf)-1)
}
