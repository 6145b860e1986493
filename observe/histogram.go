package observe

import (
	"math"
	"runtime/metrics"
	"slices"
	"time"
)

// histogram is a copy of a runtime/metrics duration histogram: counts[i]
// events fell in [buckets[i], buckets[i+1]) seconds.
type histogram struct {
	counts  []uint64
	buckets []float64
}

func histogramOf(v metrics.Value) histogram {
	if v.Kind() != metrics.KindFloat64Histogram {
		return histogram{}
	}
	h := v.Float64Histogram()
	return histogram{counts: slices.Clone(h.Counts), buckets: h.Buckets}
}

// since returns the events of h that came after base (an earlier copy of the
// same histogram).
func (h histogram) since(base histogram) histogram {
	if len(base.counts) != len(h.counts) {
		return h
	}
	d := histogram{counts: make([]uint64, len(h.counts)), buckets: h.buckets}
	for i, c := range h.counts {
		d.counts[i] = c - min(c, base.counts[i])
	}
	return d
}

// Distribution summarizes durations: how many and their quantiles. Each
// quantile is the upper bound of the histogram bucket that holds it (the
// runtime's buckets are about 12% wide), so it never understates.
type Distribution struct {
	Count uint64        `json:"count"`
	P50   time.Duration `json:"p50"`
	P95   time.Duration `json:"p95"`
	P99   time.Duration `json:"p99"`
	Max   time.Duration `json:"max"`
}

func (h histogram) distribution() Distribution {
	var total uint64
	for _, c := range h.counts {
		total += c
	}
	if total == 0 {
		return Distribution{}
	}
	return Distribution{
		Count: total,
		P50:   h.quantile(total, 0.50),
		P95:   h.quantile(total, 0.95),
		P99:   h.quantile(total, 0.99),
		Max:   h.quantile(total, 1),
	}
}

// quantile returns the upper bound of the bucket holding the q-th event.
func (h histogram) quantile(total uint64, q float64) time.Duration {
	rank := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if c > 0 && seen >= rank {
			return bucketBound(h.buckets, i)
		}
	}
	return bucketBound(h.buckets, len(h.counts)-1)
}

// bucketBound returns bucket i's upper bound, or its lower one where the
// upper is infinite.
func bucketBound(buckets []float64, i int) time.Duration {
	b := buckets[i+1]
	if math.IsInf(b, 1) {
		b = buckets[i]
	}
	return time.Duration(b * float64(time.Second))
}
