package tiermem_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/tiermem/tiermem"
)

// TestHostileRenameInAFullPinnedTier: Rename's value "stays in the tier old
// was in", and a Rename takes no more room than it frees (the old name's
// entry leaves in the same step). In a hot or warm tier filled with pinned
// values, renaming one of them must succeed in place, keeping its pin, and
// renaming the one unpinned value must not push it a tier down.
func TestHostileRenameInAFullPinnedTier(t *testing.T) {
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm} {
		for _, fromPinned := range []bool{true, false} {
			t.Run(fmt.Sprint(tr, "/pinned=", fromPinned), func(t *testing.T) {
				m := open(t, &tiermem.Options{Hot: tiermem.TierOptions{Size: 256 << 10}, Warm: tiermem.TierOptions{Size: 256 << 10},
					Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1})
				opts := []tiermem.StoreOption{tiermem.InTier(tr)}
				if fromPinned {
					opts = append(opts, tiermem.Pinned())
				}
				must(t, m.Store("p0", hostileValue(0, 0, 20<<10), opts...))
				entry := m.Usage()[tr].Used
				free := func() int64 { u := m.Usage()[tr]; return u.Capacity - u.Used }
				// Pinned values fill the tier with no Store making room, so
				// that p0 stays in it, and a pinned pad leaves less free than
				// p0's entry takes.
				for n := 1; free() >= 2*entry; n++ {
					must(t, m.Store(fmt.Sprint("p", n), hostileValue(n, 0, 20<<10), tiermem.InTier(tr), tiermem.Pinned()))
				}
				must(t, m.Store("pad", hostileValue(99, 0, int(free())-2048), tiermem.InTier(tr), tiermem.Pinned()))
				if f := free(); f >= entry {
					t.Fatalf("the tier has %d bytes free, as much as p0's entry takes (%d)", f, entry)
				}
				if got := tierOf(t, m, "p0"); got != tr {
					t.Fatalf("p0 left the %v tier for %v while it filled", tr, got)
				}
				if err := m.Rename("p0", "q", false); err != nil {
					t.Fatalf("Rename of a value in a full tier, which frees what it takes: %v", err)
				}
				if got := tierOf(t, m, "q"); got != tr {
					t.Errorf("the renamed value is in %v, want %v (the tier the old name was in)", got, tr)
				}
				if u := m.Usage()[tr]; u.Used > u.Capacity {
					t.Errorf("after the Rename the %v tier uses %d bytes of its budget of %d", tr, u.Used, u.Capacity)
				}
				if p, err := m.IsPinned("q"); err != nil || p != fromPinned {
					t.Errorf("the renamed value: pinned %v (%v), want %v", p, err, fromPinned)
				}
				got, err := m.Retrieve("q")
				if err != nil || !bytes.Equal(got, hostileValue(0, 0, 20<<10)) {
					t.Errorf("the renamed value reads %v or other bytes", err)
				}
			})
		}
	}
}

// TestHostileRenameInAFullLastTier: the same in the last tier (cold, with
// Glacier.Disabled), full of plain values: Rename needs no room beyond
// what the old name frees, there or in the durable cold log's copy, yet it
// fails with ErrNoSpace, for a cold key and for a hot key under Always
// (whose log copy moves to the new name).
func TestHostileRenameInAFullLastTier(t *testing.T) {
	for _, d := range []tiermem.Durability{tiermem.None, tiermem.Always} {
		t.Run(d.String(), func(t *testing.T) {
			o := &tiermem.Options{Hot: tiermem.TierOptions{Size: 256 << 10}, Warm: tiermem.TierOptions{Size: 256 << 10},
				Cold: tiermem.TierOptions{Size: 1 << 20}, MigrateInterval: -1, Durability: d}
			o.Glacier.Disabled = true
			m := open(t, o)
			must(t, m.Store("h", hostileValue(1, 0, 20<<10), tiermem.InTier(tiermem.Hot)))
			for n := 0; ; n++ {
				if err := m.Store(fmt.Sprint("c", n), hostileValue(n, 1, 20<<10), tiermem.InTier(tiermem.Cold)); err != nil {
					if n < 10 {
						t.Fatal(err)
					}
					break // cold is full
				}
			}
			for _, k := range []string{"c0", "h"} {
				if err := m.Rename(k, k+"-renamed", false); err != nil {
					t.Errorf("Rename(%q) with cold full: %v", k, err)
				}
			}
		})
	}
}
