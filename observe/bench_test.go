package observe_test

import (
	"hash/fnv"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/tiermem/tiermem/observe"
)

type item struct {
	key  string
	val  []byte
	next *item
}

var workSink uint64

// work is one operation of a CPU- and allocation-heavy program: it builds
// 256 small linked objects, sorts them and hashes their bytes.
func work() {
	items := make([]*item, 256)
	for i := range items {
		items[i] = &item{key: string(rune('a' + i%26)), val: make([]byte, 64)}
		items[i].val[i%64] = byte(i)
		if i > 0 {
			items[i].next = items[i-1]
		}
	}
	slices.SortFunc(items, func(a, b *item) int { return int(a.val[0]) - int(b.val[0]) })
	h := fnv.New64a()
	for _, it := range items {
		h.Write(it.val)
	}
	workSink += h.Sum64()
}

// BenchmarkWorkload is the monitoring-overhead pair: the same workload with
// no Optimizer and with one running at the default interval (a sample a
// second, profiles every five). Run with -benchtime of several seconds so
// that the run with the Optimizer includes its profiles.
func BenchmarkWorkload(b *testing.B) {
	b.Run("optimizer=off", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			work()
		}
	})
	b.Run("optimizer=on", func(b *testing.B) {
		o, err := observe.Start(nil)
		if err != nil {
			b.Fatal(err)
		}
		defer o.Stop()
		b.ReportAllocs()
		for b.Loop() {
			work()
		}
	})
}

// fullOptimizer returns an Optimizer whose ring of samples and profiles is
// full, as after ten minutes at the default interval.
func fullOptimizer(b *testing.B) *observe.Optimizer {
	o, err := observe.Start(&observe.Options{Interval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	for i := range observe.DefaultSamples {
		for range 20 {
			work() // 600 KB between samples: the heap profile sees it
		}
		if i%10 == 0 {
			runtime.GC() // a new heap profile now and then
		}
		if err := o.Sample(); err != nil {
			b.Fatal(err)
		}
	}
	return o
}

// BenchmarkSnapshot is the analysis of a snapshot, tuning decisions
// included: a sample, then the report over 600 samples and 12 heap and
// goroutine profiles.
func BenchmarkSnapshot(b *testing.B) {
	o := fullOptimizer(b)
	defer o.Stop()
	b.ReportAllocs()
	var r observe.Report
	for b.Loop() {
		r = o.Snapshot()
	}
	b.ReportMetric(float64(len(r.Samples)), "samples")
	b.ReportMetric(float64(len(r.HotSpots.ByBytes)), "hot-spots")
}

// BenchmarkSample is a sample with heap and goroutine profiles, what the
// Optimizer does every ProfileEvery intervals.
func BenchmarkSample(b *testing.B) {
	o, err := observe.Start(&observe.Options{Interval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer o.Stop()
	b.ReportAllocs()
	for b.Loop() {
		if err := o.Sample(); err != nil {
			b.Fatal(err)
		}
	}
}
