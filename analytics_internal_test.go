package tiermem

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem/internal/gate"
)

// TestAnalyticsHistogramBuckets: every duration lands in a bucket whose
// midpoint is within 1/32 of it, and buckets grow with the duration.
func TestAnalyticsHistogramBuckets(t *testing.T) {
	prev := -1
	for _, d := range []time.Duration{0, 1, 31, 32, 33, 63, 64, 100, 999, 1000, 4095, 4096, 123456, time.Millisecond,
		time.Second, time.Minute, 1<<histMaxBits - 1} {
		b := bucketOf(d)
		if b < prev || b >= histBuckets {
			t.Fatalf("bucketOf(%v) = %d after %d (of %d)", d, b, prev, histBuckets)
		}
		prev = b
		if v := bucketValue(b); absDiff(v, d) > d/32 {
			t.Errorf("bucketOf(%d ns) = %d, whose value %d ns is more than 1/32 off", d, b, v)
		}
	}
	if b := bucketOf(time.Hour); b != histBuckets-1 {
		t.Errorf("an hour lands in bucket %d, want the last, %d", b, histBuckets-1)
	}
	if b := bucketOf(-time.Second); b != 0 {
		t.Errorf("a negative duration lands in bucket %d, want 0", b)
	}
	for b := 1; b < histBuckets; b++ {
		if bucketValue(b) <= bucketValue(b-1) {
			t.Fatalf("bucket %d's value %d is not above bucket %d's %d", b, bucketValue(b), b-1, bucketValue(b-1))
		}
	}
}

func absDiff(a, b time.Duration) time.Duration { return max(a-b, b-a) }

// TestAnalyticsPercentiles: the percentiles of what was recorded since the
// previous look are those of the values, within the buckets' 1/32.
func TestAnalyticsPercentiles(t *testing.T) {
	var h histogram
	var prev, cur [histBuckets]uint64
	for i := range 1000 { // recorded before prev was taken: not in the interval
		h.record(time.Duration(i) * time.Hour)
	}
	h.load(&prev)
	rng := rand.New(rand.NewPCG(1, 2))
	values := make([]time.Duration, 20000)
	for i := range values {
		values[i] = time.Duration(rng.ExpFloat64() * float64(50*time.Microsecond))
		h.record(values[i])
	}
	h.load(&cur)
	l := percentiles(&cur, &prev)
	slices.Sort(values)
	if l.Samples != int64(len(values)) {
		t.Fatalf("Samples = %d, want %d", l.Samples, len(values))
	}
	for _, c := range []struct {
		got time.Duration
		q   float64
	}{{l.P50, 0.5}, {l.P99, 0.99}, {l.P999, 0.999}} {
		want := values[rank(c.q, uint64(len(values)))-1]
		if absDiff(c.got, want) > want/32+1 {
			t.Errorf("p%v = %v, want %v within 1/32", c.q*100, c.got, want)
		}
	}
	if got := percentiles(&cur, &cur); got != (Latency{}) {
		t.Errorf("percentiles of nothing = %+v, want zero", got)
	}
}

// TestAnalyticsRingWrapAround: a full ring keeps the latest samples, oldest
// first, and what Analytics hands out is the caller's, even while samples
// go on arriving.
func TestAnalyticsRingWrapAround(t *testing.T) {
	r := newRing(3, 2)
	if got := r.copy(); len(got) != 0 {
		t.Fatalf("an empty ring copies %d samples", len(got))
	}
	for i := range 10 {
		s := r.next()
		s.Hits = int64(i)
		s.Tiers[1].Hits = int64(100 + i)
		r.publish()
		got := r.copy()
		if len(got) != min(i+1, 3) {
			t.Fatalf("after %d samples the ring holds %d", i+1, len(got))
		}
		for j, g := range got {
			want := int64(i - len(got) + 1 + j)
			if g.Hits != want || g.Tiers[1].Hits != 100+want || len(g.Tiers) != 2 {
				t.Fatalf("after %d samples, sample %d has hits %d and tier hits %d, want %d and %d", i+1, j, g.Hits, g.Tiers[1].Hits, want, 100+want)
			}
		}
		got[0].Tiers[1].Hits = -1 // the caller's copy
	}
	r = newRing(3, 2)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 1000 {
			s := r.next()
			s.Hits, s.Tiers[0].Hits, s.Tiers[1].Hits = int64(i), int64(i), int64(i)
			r.publish()
		}
	})
	for range 200 {
		for _, s := range r.copy() {
			if s.Tiers[0].Hits != s.Hits || s.Tiers[1].Hits != s.Hits {
				t.Fatalf("a copied sample mixes two: %d, %d, %d", s.Hits, s.Tiers[0].Hits, s.Tiers[1].Hits)
			}
		}
	}
	wg.Wait()
}

// BenchmarkAnalyticsCounting is what analytics adds to a read: looking at
// the timing flag, one add to the stripe's counter, and one read in 64 the
// clock read twice and a histogram add; from every goroutine RunParallel
// starts, each on the stripe its gate token picks.
func BenchmarkAnalyticsCounting(b *testing.B) {
	c := collector{epoch: time.Now()}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var g gate.Gate
		tok, _ := g.Enter()
		s := &c.reads[tok%counterStripes]
		for pb.Next() {
			timed := timing(&s.timeIt)
			var start time.Duration
			if timed {
				start = c.clock()
			}
			count(&s.hits[0], &s.timeIt)
			if timed {
				c.retrieve[0].record(c.clock() - start)
			}
		}
	})
}
