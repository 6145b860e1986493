package tiermem_test

import (
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestSetTierPolicyBackToClockKeepsRecentValues: the warm tier's CLOCK
// (PolicyAuto) demotes, on each pass, the keys not read since its previous
// sweep, provided that sweep is DemoteAfter old. Switching away from CLOCK
// and back must not demote a key read a minute ago (DemoteAfter 10 min):
// the new CLOCK counts idleness from the switch (a review found its first
// pass sweeping at once, the bits cleared by the old CLOCK's last sweep).
func TestSetTierPolicyBackToClockKeepsRecentValues(t *testing.T) {
	for _, sw := range []bool{false, true} {
		clock := tiermem.NewFakeClock()
		o := tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1 << 20},
			Warm: tiermem.TierOptions{Size: 4 << 20, DemoteAfter: 10 * time.Minute}, Cold: tiermem.TierOptions{Size: 64 << 20}}
		tiermem.SetClock(&o, clock)
		m := open(t, &o)
		must(t, m.Store("k", []byte("value"), tiermem.InTier(tiermem.Warm)))
		clock.Advance(10*time.Minute + time.Second)
		if _, err := m.Retrieve("k"); err != nil { // read just before the sweep
			t.Fatal(err)
		}
		clock.Advance(time.Second)
		must(t, m.Migrate()) // the CLOCK's sweep: k was read, stays; its bit is cleared
		if got := tierOf(t, m, "k"); got != tiermem.Warm {
			t.Fatalf("k in %v after the first pass", got)
		}
		clock.Advance(time.Minute)
		if sw {
			must(t, m.SetTierPolicy(tiermem.Warm, tiermem.PolicyLRU))
			must(t, m.SetTierPolicy(tiermem.Warm, tiermem.PolicyAuto))
		}
		must(t, m.Migrate())
		if got := tierOf(t, m, "k"); got != tiermem.Warm {
			t.Errorf("switched away from CLOCK and back: %v; k, read 61 s ago (warm DemoteAfter 10 min), was demoted to %v", sw, got)
		}
	}
}
