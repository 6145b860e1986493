package tiermem_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/tiermem/tiermem"
)

// TestHostileDurableStoresWhenColdIsSmallerThanMemory: with Durability
// Always the cold log holds a copy of every hot and warm value. With a cold
// budget below hot + warm (as the defaults give on a machine with more RAM
// than half its free disk: hot ram/4 + warm 2·ram/5 against cold disk/2),
// the log's copies fill cold while hot is half empty and glacier has no
// budget: room is made by dropping memory victims' copies, so that their
// log copies become cold's own entries and go down to glacier, and every
// Store succeeds (they failed with ErrNoSpace blaming pins that did not
// exist).
func TestHostileDurableStoresWhenColdIsSmallerThanMemory(t *testing.T) {
	for _, named := range []bool{false, true} {
		t.Run(fmt.Sprint("named=", named), func(t *testing.T) {
			m, err := tiermem.Open(t.TempDir(), &tiermem.Options{Durability: tiermem.Always, MigrateInterval: -1,
				Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 1 << 20},
				Cold: tiermem.TierOptions{Size: 512 << 10}})
			must(t, err)
			defer m.Close()
			const n = 200 // 1.6 MiB: hot and warm hold it, glacier has no budget
			for i := range n {
				var opts []tiermem.StoreOption
				if named {
					opts = append(opts, tiermem.InTier(tiermem.Tier(i%2)))
				}
				if err := m.Store(fmt.Sprint("k", i), hostileValue(i, 0, 8<<10), opts...); err != nil {
					u := m.Usage()
					t.Fatalf("Store %d of %d: %v\n(nothing is pinned; hot %d of %d bytes, warm %d of %d, cold %d of %d, glacier %d keys)",
						i, n, err, u[tiermem.Hot].Used, u[tiermem.Hot].Capacity, u[tiermem.Warm].Used, u[tiermem.Warm].Capacity,
						u[tiermem.Cold].Used, u[tiermem.Cold].Capacity, u[tiermem.Glacier].Items)
				}
			}
			for i := range n {
				if got, err := m.Retrieve(fmt.Sprint("k", i)); err != nil || !bytes.Equal(got, hostileValue(i, 0, 8<<10)) {
					t.Fatalf("k%d: %v", i, err)
				}
			}
		})
	}
}

// TestHostileStoreManyStoresAllOrNone: StoreMany stores all of its pairs
// or none (only a store's own failure once the room is held may leave the
// first pairs stored). Hot holds pinned entries and one unpinned key "a";
// StoreMany(x0, a, x1) with Pinned reserves x0's room, a's room less a's
// present entry, and then x1's: the room for x1 is never made by demoting
// a, whose entry a's room counts on (that left a's put waiting 5 s for the
// batch's own room, after x0 was stored).
func TestHostileStoreManyStoresAllOrNone(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{MigrateInterval: -1, DemoteAfter: -1,
		Hot: tiermem.TierOptions{Size: 256 << 10}, Warm: tiermem.TierOptions{Size: 4 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}})
	must(t, err)
	defer m.Close()
	old := hostileValue(1, 0, 32<<10)
	must(t, m.Store("a", old, tiermem.InTier(tiermem.Hot)))
	for i := 0; ; i++ { // pinned entries until hot has room for one more value and not two
		if u := m.Usage()[tiermem.Hot]; u.Capacity-u.Used <= 40<<10 {
			break
		}
		must(t, m.Store(fmt.Sprint("p", i), hostileValue(2, i, 1<<10), tiermem.InTier(tiermem.Hot), tiermem.Pinned()))
	}
	keys := [][]byte{[]byte("x0"), []byte("a"), []byte("x1")}
	values := [][]byte{hostileValue(3, 0, 32<<10), hostileValue(3, 1, 32<<10), hostileValue(3, 2, 32<<10)}
	err = m.StoreMany(keys, values, tiermem.Pinned())
	if err == nil {
		for i, k := range keys {
			if got, err := m.Retrieve(string(k)); err != nil || !bytes.Equal(got, values[i]) {
				t.Errorf("StoreMany returned nil, but %s: %v", k, err)
			}
		}
		return
	}
	var stored []string
	for i, k := range keys {
		if got, err := m.Retrieve(string(k)); err == nil && bytes.Equal(got, values[i]) {
			stored = append(stored, string(k))
		}
	}
	if len(stored) > 0 {
		t.Fatalf("StoreMany failed (%v) with %v stored: a batch is stored whole or not at all", err, stored)
	}
	if got, err := m.Retrieve("a"); err != nil || !bytes.Equal(got, old) {
		t.Errorf("after the failed StoreMany, a: %v", err)
	}
}

// TestHostileRenameAndUpdateStayInTheirTier: Rename's value "stays in the
// tier old was in", and Update's present key "stays in its tier", also in
// a full tier where the victim the tier's policy would pick to make the
// room is the key itself (the least recently used): the rewrite never
// demotes the key it rewrites; another victim goes. CopyKey's copy and
// its original both stay in the tier.
func TestHostileRenameAndUpdateStayInTheirTier(t *testing.T) {
	for _, op := range []string{"Rename", "CopyKey", "Update"} {
		for _, c := range []struct {
			start  tiermem.Tier
			policy tiermem.Policy
		}{{tiermem.Hot, tiermem.PolicyAuto}, {tiermem.Warm, tiermem.PolicyLRU}} {
			t.Run(fmt.Sprint(op, "-", c.start, "-", c.policy), func(t *testing.T) {
				o := tiermem.Options{MigrateInterval: -1, DemoteAfter: -1}
				o.Hot = tiermem.TierOptions{Size: 256 << 10, Policy: c.policy}
				o.Warm = tiermem.TierOptions{Size: 512 << 10, Policy: c.policy}
				o.Cold = tiermem.TierOptions{Size: 64 << 20}
				m, err := tiermem.Open(t.TempDir(), &o)
				must(t, err)
				defer m.Close()
				v := hostileValue(1, 0, 20<<10)
				must(t, m.Store("old", v, tiermem.InTier(c.start)))
				for i := 0; ; i++ { // fill the tier: no room for one more value
					if u := m.Usage()[c.start]; u.Capacity-u.Used < 21<<10 {
						break
					}
					must(t, m.Store(fmt.Sprint("f", i), hostileValue(2, i, 20<<10), tiermem.InTier(c.start)))
				}
				key, want := "new", v
				switch op {
				case "Rename":
					must(t, m.Rename("old", "new", false))
				case "CopyKey":
					must(t, m.CopyKey("old", "new", false))
					if tr, err := m.Tier("old"); err != nil || tr != c.start {
						t.Errorf("after CopyKey old is in the %v tier (%v), not the %v tier it was in", tr, err, c.start)
					}
				default:
					u := m.Usage()[c.start] // grow by 1 KiB more than the tier has free: one victim must go
					key, want = "old", append(bytes.Clone(v), make([]byte, int(u.Capacity-u.Used)+1<<10)...)
					must(t, m.Update("old", func([]byte, bool) ([]byte, bool, error) { return want, true, nil }))
				}
				if got, err := m.Retrieve(key); err != nil || !bytes.Equal(got, want) {
					t.Fatalf("%s after %s: %v", key, op, err)
				}
				if tr, err := m.Tier(key); err != nil || tr != c.start {
					u := m.Usage()[c.start]
					t.Errorf("after %s the value is in the %v tier (%v), not the %v tier it was in; %v now uses %d of %d bytes",
						op, tr, err, c.start, c.start, u.Used, u.Capacity)
				}
			})
		}
	}
}

// TestHostileRenameInAFullTierOfPinnedEntries: the hot tier (1 MiB) holds
// a (300 KiB, not pinned) and 600 KiB of pinned entries. Rename(a, b)
// needs no room beyond what a frees in the same step, so it succeeds,
// rather than failing with ErrNoSpace ("every entry in it is pinned",
// which a is not). (A rewrite that does need room spares its own key only
// while other entries can go, then demotes it as any victim.)
func TestHostileRenameInAFullTierOfPinnedEntries(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{MigrateInterval: -1,
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 8 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}})
	must(t, err)
	defer m.Close()
	value := seededNoise(300<<10, 1)
	must(t, m.Store("a", value, tiermem.InTier(tiermem.Hot)))
	for i, k := range []string{"p1", "p2"} {
		must(t, m.Store(k, seededNoise(300<<10, byte(2+i)), tiermem.InTier(tiermem.Hot), tiermem.Pinned()))
	}
	if err := m.Rename("a", "b", false); err != nil {
		t.Fatalf("Rename in a hot tier full of pinned entries, with room in warm and cold: %v", err)
	}
	got, err := m.Retrieve("b")
	must(t, err)
	if !bytes.Equal(got, value) {
		t.Error("b does not read as a did")
	}
}
