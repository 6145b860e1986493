package tiermem_test

import (
	"fmt"
	"testing"

	"github.com/tiermem/tiermem"
)

// BenchmarkSetDurability times the switch from None to Always of a Manager
// holding 100,000 values of 1 KiB in memory (hot and warm), which writes
// each to the cold log and syncs it, beside its baseline: Close of the same
// Manager with None, which writes the same values to the log and syncs.
func BenchmarkSetDurability(b *testing.B) {
	const n, size = 100_000, 1 << 10
	fill := func(b *testing.B) *tiermem.Manager {
		m, err := tiermem.Open(b.TempDir(), &tiermem.Options{MigrateInterval: -1,
			Hot: tiermem.TierOptions{Size: 64 << 20}, Warm: tiermem.TierOptions{Size: 256 << 20},
			Cold: tiermem.TierOptions{Size: 1 << 30}})
		if err != nil {
			b.Fatal(err)
		}
		value := noise(size)
		for i := range n {
			if err := m.Store(fmt.Sprint("key", i), value, tiermem.InTier(tiermem.Tier(i%2))); err != nil {
				b.Fatal(err)
			}
		}
		return m
	}
	for _, op := range []string{"SetDurability", "Close"} {
		b.Run(op, func(b *testing.B) {
			b.SetBytes(n * size)
			for range b.N {
				b.StopTimer()
				m := fill(b)
				b.StartTimer()
				var err error
				if op == "Close" {
					err = m.Close()
				} else {
					err = m.SetDurability(tiermem.Always)
				}
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				m.Close()
				b.StartTimer()
			}
		})
	}
}
