package tiermem_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/tiermem/tiermem"
)

// TestDurableModesWriteThroughToCold: with EverySecond and Always every Store
// reaches the cold log, demotions to cold only drop the memory copy,
// promotions keep the cold copy, and Delete removes both.
func TestDurableModesWriteThroughToCold(t *testing.T) {
	for _, d := range []tiermem.Durability{tiermem.EverySecond, tiermem.Always} {
		t.Run(d.String(), func(t *testing.T) {
			m := open(t, &tiermem.Options{Durability: d, MigrateInterval: -1,
				Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
				Cold: tiermem.TierOptions{Size: 64 << 20}})
			value := bytes.Repeat([]byte("durable"), 100)
			must(t, m.Store("k", value, tiermem.InTier(tiermem.Hot)))
			u := m.Usage()
			if u[tiermem.Hot].Items != 1 || u[tiermem.Cold].Items != 1 {
				t.Fatalf("after a hot Store: %+v", u)
			}
			must(t, m.Move("k", tiermem.Cold))
			if u = m.Usage(); u[tiermem.Hot].Items != 0 || u[tiermem.Cold].Items != 1 || tierOf(t, m, "k") != tiermem.Cold {
				t.Fatalf("after Move to cold: %+v", u)
			}
			must(t, m.Move("k", tiermem.Warm))
			if u = m.Usage(); u[tiermem.Warm].Items != 1 || u[tiermem.Cold].Items != 1 {
				t.Fatalf("a promotion dropped the cold log's copy: %+v", u)
			}
			got, err := m.Retrieve("k")
			if err != nil || !bytes.Equal(got, value) {
				t.Fatalf("Retrieve: %v", err)
			}
			for i := range 12 { // room in hot for these pushes the others down
				must(t, m.Store(fmt.Sprint("n", i), make([]byte, 100<<10), tiermem.InTier(tiermem.Hot)))
			}
			if got := m.Usage()[tiermem.Cold].Items; got != 13 {
				t.Errorf("cold log holds %d keys, want all 13", got)
			}
			must(t, m.Delete("k"))
			if got := m.Usage()[tiermem.Cold].Items; got != 12 {
				t.Errorf("after Delete the cold log holds %d keys, want 12", got)
			}
			if s := m.Stats(); s.Tiers[tiermem.Hot].Evictions == 0 {
				t.Errorf("nothing left hot for room: %+v", s.Tiers)
			}
		})
	}
}

func TestDurabilityNames(t *testing.T) {
	for d, want := range map[tiermem.Durability]string{tiermem.None: "none", tiermem.EverySecond: "every-second", tiermem.Always: "always", 9: "Durability(9)"} {
		if got := d.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(d), got, want)
		}
	}
}
