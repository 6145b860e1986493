package tiermem_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/tier/disk"
)

// BenchmarkCloseWarm times Close of a Manager with Durability None whose
// warm tier holds a million 100-byte values (16-byte keys) under a 64 MiB
// hot budget: Close writes them all to the cold tier. "disk" is the same
// writes straight into a tier/disk store and its Sync: what Close cannot
// beat. One iteration is one Close; run with -benchtime 1x.
// TIERMEM_CLOSE_KEYS sets another count of values.
//
//	go test -run '^$' -bench CloseWarm -benchtime 1x -count 3 .
//	TIERMEM_CLOSE_KEYS=10000000 go test -run '^$' -bench CloseWarm/manager -benchtime 1x .
func BenchmarkCloseWarm(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("TIERMEM_CLOSE_KEYS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n <= 0 {
			b.Fatalf("TIERMEM_CLOSE_KEYS=%q: want a count of keys", s)
		}
	}
	value := make([]byte, 100)
	key := func(buf []byte, i int) []byte { return fmt.Appendf(buf[:0], "key:%012d", i) }
	b.Run("manager", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			b.StopTimer()
			m, err := tiermem.Open(b.TempDir(), &tiermem.Options{MigrateInterval: -1,
				Hot: tiermem.TierOptions{Size: 64 << 20}, Warm: tiermem.TierOptions{Size: 4 << 30},
				Cold: tiermem.TierOptions{Size: 64 << 30}, Glacier: tiermem.GlacierOptions{Disabled: true}})
			if err != nil {
				b.Fatal(err)
			}
			var buf []byte
			for i := range n {
				buf = key(buf, i)
				if err := m.StoreBytes(buf, value, tiermem.InTier(tiermem.Warm)); err != nil {
					b.Fatal(err)
				}
			}
			runtime.GC()
			w := watchRSS(b)
			b.StartTimer()
			if err := m.Close(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			w.report(b)
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
	})
	b.Run("disk", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			b.StopTimer()
			s, err := disk.Open(filepath.Join(b.TempDir(), "cold"), nil)
			if err != nil {
				b.Fatal(err)
			}
			var buf []byte
			b.StartTimer()
			for i := range n {
				buf = key(buf, i)
				// nil meta: a plain value's header is empty.
				if _, err := s.Put(string(buf), value, nil); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.Sync(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			s.Close()
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
	})
}
