package tiermem_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// BenchmarkAnalyticsRetrieve reads 100-byte values of the hot and warm
// tiers from every goroutine RunParallel starts, with analytics off and on
// (a sample every 100 ms) in the same run: the pair docs/analytics.md
// compares. Retrieve returns a new slice each time (one allocation of its
// own), RetrieveAppend reuses the caller's (none).
func BenchmarkAnalyticsRetrieve(b *testing.B) {
	for _, read := range []string{"Retrieve", "RetrieveAppend"} {
		for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm} {
			for _, on := range []bool{false, true} {
				name := fmt.Sprintf("%s/%v/analytics=%s", read, tr, map[bool]string{false: "off", true: "on"}[on])
				b.Run(name, func(b *testing.B) { benchAnalyticsRead(b, read == "RetrieveAppend", tr, on) })
			}
		}
	}
}

func benchAnalyticsRead(b *testing.B, appendTo bool, tr tiermem.Tier, on bool) {
	m := openBench(b, tiermem.Options{Hot: tiermem.TierOptions{Size: 64 << 20},
		Warm: tiermem.TierOptions{Size: 64 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}})
	keys := make([]string, 1<<14)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%08d", i)
		if err := m.Store(keys[i], make([]byte, smallValue), tiermem.InTier(tr)); err != nil {
			b.Fatal(err)
		}
	}
	if on {
		if err := m.EnableAnalytics(100 * time.Millisecond); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	var seed atomic.Uint64
	b.RunParallel(func(pb *testing.PB) {
		i := int(seed.Add(1) * 7919)
		buf := make([]byte, 0, smallValue)
		for pb.Next() {
			i++
			var err error
			if appendTo {
				buf, err = m.RetrieveAppend(buf[:0], keys[i&(len(keys)-1)])
			} else {
				_, err = m.Retrieve(keys[i&(len(keys)-1)])
			}
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	if on {
		m.DisableAnalytics()
		var hits int64
		for _, s := range m.Analytics() {
			hits += s.Tiers[tr].Hits
		}
		if hits < int64(b.N) {
			b.Fatalf("analytics counted %d hits of %d reads", hits, b.N)
		}
	}
}

// BenchmarkAnalyticsInterleaved reads 100-byte values of a tier with
// RetrieveAppend (or Retrieve) in chunks of 2048 reads, counting off and on
// in the order off, on, on, off, ... in one run, so that the load of a
// shared machine, which drifts over seconds, falls on both alike. It
// reports each path's ns/read and the throughput with analytics on as a
// fraction of off (on/off).
func BenchmarkAnalyticsInterleaved(b *testing.B) {
	for _, read := range []string{"RetrieveAppend", "Retrieve"} {
		for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm} {
			b.Run(fmt.Sprintf("%s/%v", read, tr), func(b *testing.B) { benchInterleaved(b, read == "RetrieveAppend", tr) })
		}
	}
}

func benchInterleaved(b *testing.B, appendTo bool, tr tiermem.Tier) {
	m := openBench(b, tiermem.Options{Hot: tiermem.TierOptions{Size: 64 << 20},
		Warm: tiermem.TierOptions{Size: 64 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}})
	keys := make([]string, 1<<14)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%08d", i)
		if err := m.Store(keys[i], make([]byte, smallValue), tiermem.InTier(tr)); err != nil {
			b.Fatal(err)
		}
	}
	if err := m.EnableAnalytics(100 * time.Millisecond); err != nil {
		b.Fatal(err)
	}
	const chunk = 2048
	var spent [2]time.Duration
	var reads [2]int
	buf := make([]byte, 0, smallValue)
	b.ReportAllocs()
	b.ResetTimer()
	x := uint64(88172645463325252) // xorshift64 state
	for i, k := 0, 0; i < b.N; k++ {
		on := k%4 == 1 || k%4 == 2
		arm := map[bool]int{false: 0, true: 1}[on]
		tiermem.CountAnalytics(m, on)
		n := min(chunk, b.N-i)
		start := time.Now()
		for range n {
			// Keys in a pseudo-random order, so that both arms read every
			// key alike: in order, each arm read its own fixed quarter of
			// the keys, and with them their own records' places in memory
			// (a bias of a few percent on warm Retrieve that looked like
			// analytics' cost).
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			key := keys[x&uint64(len(keys)-1)]
			if appendTo {
				buf, _ = m.RetrieveAppend(buf[:0], key)
			} else {
				m.Retrieve(key)
			}
		}
		spent[arm] += time.Since(start)
		reads[arm] += n
		i += n
	}
	b.StopTimer()
	if reads[0] == 0 || reads[1] == 0 {
		return
	}
	off, on := float64(spent[0])/float64(reads[0]), float64(spent[1])/float64(reads[1])
	b.ReportMetric(off, "ns/read-off")
	b.ReportMetric(on, "ns/read-on")
	b.ReportMetric(off/on, "on/off")
}
