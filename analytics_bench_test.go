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
