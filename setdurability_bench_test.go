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

// BenchmarkSetTierPolicy times switching the policy of a tier holding
// 100,000 values of 1 KiB: warm from CLOCK to LRU (new victims, filled
// with every entry under its key's lock) and the hot tier from Adaptive to
// LRU (its policy rebuilt in its entries), beside a pass over the same
// entries (ScanInfo), the floor of any switch that must see each one.
func BenchmarkSetTierPolicy(b *testing.B) {
	const n, size = 100_000, 1 << 10
	m, err := tiermem.Open(b.TempDir(), &tiermem.Options{MigrateInterval: -1,
		Hot: tiermem.TierOptions{Size: 256 << 20}, Warm: tiermem.TierOptions{Size: 256 << 20},
		Cold: tiermem.TierOptions{Size: 1 << 30}})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	value := noise(size)
	for i := range n {
		if err := m.Store(fmt.Sprint("key", i), value, tiermem.InTier(tiermem.Tier(i%2))); err != nil {
			b.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		tier tiermem.Tier
		a, z tiermem.Policy
	}{{"warm", tiermem.Warm, tiermem.PolicyLRU, tiermem.PolicyAuto}, {"hot", tiermem.Hot, tiermem.PolicyLRU, tiermem.PolicyAdaptive}} {
		b.Run(tc.name, func(b *testing.B) {
			for i := range b.N {
				p := tc.a
				if i%2 == 1 {
					p = tc.z
				}
				if err := m.SetTierPolicy(tc.tier, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("ScanInfo", func(b *testing.B) {
		for range b.N {
			m.ScanInfo(func(tiermem.KeyInfo) bool { return true })
		}
	})
}
