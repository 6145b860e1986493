package tiermem_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tiermem/tiermem"
)

// TestSetDurabilityKeepsTheColdBudget: the cold budget must hold the
// memory tiers' values, else SetDurability fails and the Manager stays
// None. Warm values the cold budget cannot hold, promoted to hot during the
// sweep (whose copies of moving keys reserve nothing), must not leave cold,
// the last tier, over its budget with SetDurability returning nil.
func TestSetDurabilityKeepsTheColdBudget(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1, Glacier: tiermem.GlacierOptions{Disabled: true},
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 10}})
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 10 { // 100 KiB of incompressible values: more than cold's 64 KiB
		v := make([]byte, 10<<10)
		for j := range v {
			v[j] = byte(rng.Uint32())
		}
		must(t, m.Store(fmt.Sprint("k", i), v, tiermem.InTier(tiermem.Warm)))
	}
	tiermem.SetSweepListed(m, func(listed tiermem.Tier) {
		if listed != tiermem.Hot {
			return
		}
		tiermem.SetSweepListed(m, nil)
		for i := range 10 { // promotions into the hot tier the sweep has listed
			must(t, m.Move(fmt.Sprint("k", i), tiermem.Hot))
		}
	})
	err := m.SetDurability(tiermem.Always)
	u := m.Usage()[tiermem.Cold]
	t.Logf("SetDurability: %v; cold uses %d of its %d-byte budget", err, u.Used, u.Capacity)
	if err == nil && u.Used > u.Capacity {
		t.Fatalf("SetDurability(Always) = nil with the cold tier (the last) over its budget: %d of %d bytes; a Store of 1 byte now returns %v",
			u.Used, u.Capacity, m.Store("x", []byte("x"), tiermem.InTier(tiermem.Hot)))
	}
	if err != nil && !errors.Is(err, tiermem.ErrNoSpace) {
		t.Fatal(err)
	}
}
