package tiermem_test

import (
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestHostileRenameKeepsReadHistory: ReadCount is "how many times key was
// read recently" and promotion follows it; IdleTime is "how long ago key was
// last read or stored". After Rename the reads belong to the value under its
// new name (as Redis's RENAME keeps a value's LFU count and idle time): a
// value read often and renamed keeps its count, and its idle time in the
// hot tier (kept in the entry) and in warm under PolicyLRU. Counts
// belong to names (a count-min sketch cannot take one back from counters
// other keys share): a value stored under the old name starts from the old
// name's count, which ages away with the windows.
func TestHostileRenameKeepsReadHistory(t *testing.T) {
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm} {
		t.Run(tr.String(), func(t *testing.T) {
			const window = time.Hour
			m, clock := openClocked(t, tiermem.Options{DemoteAfter: -1, HitWindow: window, PromoteHits: 15})
			must(t, m.SetTierPolicy(tiermem.Warm, tiermem.PolicyLRU))
			must(t, m.Store("a", hostileValue(1, 0, 3000), tiermem.InTier(tr)))
			for range 6 {
				_, err := m.Retrieve("a")
				must(t, err)
			}
			clock.Advance(10 * time.Minute)
			before, err := m.ReadCount("a")
			must(t, err)
			idle, err := m.IdleTime("a")
			must(t, err)
			must(t, m.Rename("a", "b", false))
			must(t, m.Store("a", hostileValue(2, 0, 3000), tiermem.InTier(tiermem.Warm)))
			if n, err := m.ReadCount("b"); err != nil || n != before {
				t.Errorf("ReadCount of the renamed value = %d (%v), want %d, its count before the Rename", n, err, before)
			}
			d, err := m.IdleTime("b")
			switch {
			case err != nil:
				t.Errorf("IdleTime of the renamed value: %v", err)
			case d < idle:
				t.Errorf("IdleTime of the renamed value = %v, want %v, its idle time before the Rename", d, idle)
			}
			clock.Advance(4 * window)
			must(t, m.Migrate())
			if n, err := m.ReadCount("a"); err != nil || n != 0 {
				t.Errorf("ReadCount of a value stored under the old name, never read, 4 windows later = %d (%v), want 0", n, err)
			}
		})
	}
}
