package tiermem_test

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/heap"
)

// failingStore is a memory store whose Puts fail while fail is set: fault
// injection for the tier a durable Store writes besides the cold log.
type failingStore struct {
	*heap.Store
	fail atomic.Bool
}

func (s *failingStore) Put(key string, value, meta []byte) (int64, error) {
	if s.fail.Load() {
		return 0, fmt.Errorf("injected: %w", tier.ErrNoSpace)
	}
	return s.Store.Put(key, value, meta)
}

// TestFailedDurableStoreChangesNothing: with a durable log, a Store that the
// target tier refuses must leave the log as it was, so that neither a read
// now nor the next Open finds the refused value (it once wrote the log
// first and left the new record there: the acknowledged value was lost at
// reopen and the refused one came back).
func TestFailedDurableStoreChangesNothing(t *testing.T) {
	for _, d := range []tiermem.Durability{tiermem.EverySecond, tiermem.Always} {
		dir := t.TempDir()
		warm := &failingStore{Store: heap.New()}
		o := tiermem.Options{MigrateInterval: -1, Durability: d, Warm: tiermem.TierOptions{Size: 1 << 20, Store: warm}}
		m, err := tiermem.Open(dir, &o)
		must(t, err)
		must(t, m.Store("k", []byte("v1"), tiermem.InTier(tiermem.Warm)))
		warm.fail.Store(true)
		if err := m.Store("k", []byte("v2"), tiermem.InTier(tiermem.Warm)); !errors.Is(err, tiermem.ErrNoSpace) {
			t.Fatalf("%v: Store refused by the tier = %v, want ErrNoSpace", d, err)
		}
		if got, err := m.Retrieve("k"); err != nil || string(got) != "v1" {
			t.Fatalf("%v: after the refused Store: %q, %v; want v1", d, got, err)
		}
		warm.fail.Store(false)
		must(t, m.Close())
		m, err = tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1, Durability: d})
		must(t, err)
		if got, err := m.Retrieve("k"); err != nil || string(got) != "v1" {
			t.Errorf("%v: after reopen: %q, %v; want the acknowledged v1", d, got, err)
		}
		must(t, m.Close())
	}
}

// TestFragmentedWarmTierStillTakesValues fills the warm tier with small
// values, deletes every other one, then stores larger ones: the slab's size
// classes fragment, and the Stores must demote and go on (they failed with
// ErrNoSpace at 60% of the budget, with cold empty).
func TestFragmentedWarmTierStillTakesValues(t *testing.T) {
	budget := int64(80 << 20) // above the 64 MiB the warm store's space has at least
	n := 6000
	m := open(t, &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: budget}, Cold: tiermem.TierOptions{Size: 1 << 30}})
	small := make([]byte, 1000)
	for i := 0; m.Usage()[tiermem.Warm].Used < budget*15/16; i++ {
		must(t, m.Store(fmt.Sprint("s", i), small, tiermem.InTier(tiermem.Warm)))
	}
	for i := 0; i < int(budget/1000); i += 2 {
		m.Delete(fmt.Sprint("s", i))
	}
	big := make([]byte, 4000)
	for i := range n {
		if err := m.Store(fmt.Sprint("b", i), big, tiermem.InTier(tiermem.Warm)); err != nil {
			u := m.Usage()
			t.Fatalf("Store %d of 4000 bytes into a fragmented warm tier (%d of %d used, cold %d): %v",
				i, u[tiermem.Warm].Used, u[tiermem.Warm].Capacity, u[tiermem.Cold].Used, err)
		}
	}
}

// TestMoveUpFollowsTheKeyItDisplaced moves a warm key into a full hot tier
// whose victim's demotion pushes that very key down to cold: the Move must
// still end with the key in hot (it reported ErrNotFound, and left the key
// in cold).
func TestMoveUpFollowsTheKeyItDisplaced(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1500},
		Warm: tiermem.TierOptions{Size: 1500}, Cold: tiermem.TierOptions{Size: 1 << 30}})
	must(t, m.Store("a", make([]byte, 1000), tiermem.InTier(tiermem.Hot)))
	must(t, m.Store("k", make([]byte, 1000), tiermem.InTier(tiermem.Warm)))
	must(t, m.Move("k", tiermem.Hot))
	if got := tierOf(t, m, "k"); got != tiermem.Hot {
		t.Errorf("k is in %v after Move to hot", got)
	}
	if _, err := m.Retrieve("a"); err != nil {
		t.Errorf("the displaced key: %v", err)
	}
}

// TestDemotionPassesATierFullOfPinnedValues fills warm with pinned values:
// Stores into hot must demote past it into cold, which has room, rather than
// fail with ErrNoSpace.
func TestDemotionPassesATierFullOfPinnedValues(t *testing.T) {
	m := open(t, tinyBudgets(-1))
	for i := 0; ; i++ {
		if err := m.Store(fmt.Sprint("p", i), make([]byte, 10_000), tiermem.InTier(tiermem.Warm), tiermem.Pinned()); err != nil {
			break
		}
	}
	for i := range 100 {
		if err := m.Store(fmt.Sprint("h", i), make([]byte, 10_000), tiermem.InTier(tiermem.Hot)); err != nil {
			t.Fatalf("Store %d into hot over a warm tier full of pinned values: %v", i, err)
		}
	}
	if u := m.Usage()[tiermem.Cold]; u.Items == 0 {
		t.Error("nothing went to cold")
	}
}

// TestReplacingNeedsOnlyTheDifference replaces a pinned value in a hot tier
// that holds nothing else: the new value needs only the room the old one
// does not already take (it needed room for both, and failed as "every
// entry is pinned").
func TestReplacingNeedsOnlyTheDifference(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 10_000},
		Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}})
	must(t, m.Store("p", make([]byte, 6000), tiermem.InTier(tiermem.Hot), tiermem.Pinned()))
	for i := range 5 {
		v := make([]byte, 6000+i*100)
		if err := m.Store("p", v, tiermem.InTier(tiermem.Hot), tiermem.Pinned()); err != nil {
			t.Fatalf("replacing a pinned value in a full hot tier (%d bytes): %v", len(v), err)
		}
	}
	if u := m.Usage()[tiermem.Hot]; u.Used > u.Capacity {
		t.Errorf("hot over its budget: %d of %d", u.Used, u.Capacity)
	}
}
