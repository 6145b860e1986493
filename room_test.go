package tiermem_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// tinyBudgets are budgets small enough that almost every Store into hot
// demotes something, and that writers race for the same room.
func tinyBudgets(interval time.Duration) *tiermem.Options {
	return &tiermem.Options{MigrateInterval: interval, Hot: tiermem.TierOptions{Size: 256 << 10},
		Warm: tiermem.TierOptions{Size: 512 << 10}, Cold: tiermem.TierOptions{Size: 1 << 30}}
}

// TestTinyBudgetsUnderConcurrencyNeverRunOutOfRoom stores values of 50 B to
// 30 KB from 8 goroutines into a 256 KiB hot tier: nothing is pinned and the
// cold tier is large, so no Store may fail for lack of room (before, about
// a quarter did, while the room was held by writes in flight).
func TestTinyBudgetsUnderConcurrencyNeverRunOutOfRoom(t *testing.T) {
	m := open(t, tinyBudgets(-1))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for i := range 300 {
				key := fmt.Sprintf("g%d-%d", g, i%50)
				v := make([]byte, 50+rng.IntN(30_000))
				if err := m.Store(key, v, tiermem.InTier(tiermem.Hot)); err != nil {
					t.Errorf("Store(%q, %d bytes): %v", key, len(v), err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm} {
		if u := m.Usage()[tr]; u.Used > u.Capacity {
			t.Errorf("%v tier over its budget: %d of %d", tr, u.Used, u.Capacity)
		}
	}
}

// TestStoresRaceMigrationWithoutRunningOutOfRoom runs a writer into warm
// against a migration pass every millisecond that demotes idle entries and
// promotes read ones.
func TestStoresRaceMigrationWithoutRunningOutOfRoom(t *testing.T) {
	o := tinyBudgets(time.Millisecond)
	o.DemoteAfter = time.Millisecond
	m := open(t, o)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // a reader that earns promotions
		defer wg.Done()
		for i := range 20_000 {
			m.Retrieve(fmt.Sprint("k", i%40))
		}
	}()
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(3, 4))
		for i := range 20_000 {
			if err := m.Store(fmt.Sprint("k", i%400), make([]byte, 50+rng.IntN(3000)), tiermem.InTier(tiermem.Warm)); err != nil {
				t.Errorf("Store %d: %v", i, err)
				return
			}
		}
	}()
	wg.Wait()
}

// TestNoSpaceSaysWhy fills the hot tier with pinned values: the Store that
// needs room fails with ErrNoSpace, saying that everything there is pinned.
func TestNoSpaceSaysWhy(t *testing.T) {
	m := open(t, tinyBudgets(-1))
	for i := 0; ; i++ {
		err := m.Store(fmt.Sprint("p", i), make([]byte, 10_000), tiermem.InTier(tiermem.Hot), tiermem.Pinned())
		if err == nil {
			continue
		}
		if !errors.Is(err, tiermem.ErrNoSpace) || !strings.Contains(err.Error(), "pinned") {
			t.Fatalf("Store into a hot tier full of pinned values = %v, want ErrNoSpace naming pinned", err)
		}
		break
	}
}

// TestTooLargeIsTheWholeBudget checks that a value fits until its cost (key,
// header and the tier's overhead) passes the whole budget, and that the
// error names the value's own size.
func TestTooLargeIsTheWholeBudget(t *testing.T) {
	m := open(t, tinyBudgets(-1))
	budget := 256 << 10
	// The hot tier charges an entry's whole allocation (its word, the key,
	// the value and 16 bytes of meta room in an entry this large, rounded up
	// to whole 8 KiB pages as Go's allocator rounds it) and 171 bytes: 107
	// for its share of its shard's table and 64 for its policy handle
	// (Adaptive, the default, lives in the entries); plain bytes without a
	// TTL or pin have an empty header. An entry this large also has its
	// value start at a multiple of 8, 7 bytes after a 1-byte key. The
	// largest that fits takes 31 pages (32 would pass the budget with the
	// 171): 8 + 8 + fits + 16 = 31 × 8 KiB.
	const pages = 31 << 13
	fits := pages - 8 - 8 - 16
	must(t, m.Store("k", make([]byte, fits), tiermem.InTier(tiermem.Hot)))
	if u := m.Usage()[tiermem.Hot]; u.Used != pages+171 {
		t.Fatalf("hot tier holding the largest value its budget takes: %d of %d bytes used, want %d", u.Used, budget, pages+171)
	}
	err := m.Store("k", make([]byte, fits+1), tiermem.InTier(tiermem.Hot))
	if !errors.Is(err, tiermem.ErrTooLarge) || !strings.Contains(err.Error(), fmt.Sprintf("a value of %d bytes", fits+1)) {
		t.Fatalf("Store of %d bytes into a %d-byte hot tier = %v, want ErrTooLarge naming the value's size", fits+1, budget, err)
	}
	// The warm tier, whose records sit in slab size classes or mappings.
	must(t, m.Store("w", make([]byte, 400<<10), tiermem.InTier(tiermem.Warm)))
}

// TestStoreArrayRejectsImpossibleShapes: a shape whose element count
// overflows, is negative or does not match the data is ErrType, and nothing
// is stored.
func TestStoreArrayRejectsImpossibleShapes(t *testing.T) {
	m := open(t, nil)
	data := make([]byte, 32)
	for _, shape := range [][]int{{1 << 62, 4}, {-1, 4}, {3, 4}, {1 << 49}, {1 << 32, 1 << 32, 1 << 32}, make([]int, 65)} {
		err := m.StoreArray("a", tiermem.Array{DType: tiermem.Float64, Shape: shape, Data: data})
		if !errors.Is(err, tiermem.ErrType) {
			t.Errorf("StoreArray with shape %v = %v, want ErrType", shape, err)
		}
	}
	if _, err := m.Retrieve("a"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("after rejected shapes, Retrieve = %v, want ErrNotFound", err)
	}
	must(t, m.StoreArray("z", tiermem.Array{DType: tiermem.Float64, Shape: []int{1 << 40, 0}}))
}

// TestBadStoreOptionsWrapASentinel: every error a bad StoreOption causes
// works with errors.Is.
func TestBadStoreOptionsWrapASentinel(t *testing.T) {
	m := open(t, nil)
	for _, d := range []time.Duration{0, -time.Second} {
		if err := m.Store("k", []byte("v"), tiermem.WithTTL(d)); !errors.Is(err, tiermem.ErrOptions) {
			t.Errorf("WithTTL(%v) = %v, want ErrOptions", d, err)
		}
	}
	if err := m.Store("k", []byte("v"), tiermem.InTier(9)); !errors.Is(err, tiermem.ErrUnknownTier) {
		t.Errorf("InTier(9) = %v, want ErrUnknownTier", err)
	}
}

// TestCorruptHeaderIsCorrupt: a value whose header cannot be decoded is
// ErrCorrupt for every way of reaching it, never ErrNotFound; Close writes
// the memory tiers' damaged entries to disk as they are, without failing,
// and after reopening they are still ErrCorrupt.
func TestCorruptHeaderIsCorrupt(t *testing.T) {
	dir := t.TempDir()
	m, err := tiermem.Open(dir, nil)
	must(t, err)
	tiers := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold}
	for _, tr := range tiers {
		key := fmt.Sprint("bad-", tr)
		must(t, tiermem.PutRaw(m, tr, key, []byte("v"), []byte{0xf0, 0}))
		if _, err := m.Retrieve(key); !errors.Is(err, tiermem.ErrCorrupt) {
			t.Errorf("Retrieve of a corrupt header in %v = %v, want ErrCorrupt", tr, err)
		}
		if _, err := m.Tier(key); !errors.Is(err, tiermem.ErrCorrupt) {
			t.Errorf("Tier of a corrupt header in %v = %v, want ErrCorrupt", tr, err)
		}
	}
	must(t, m.Close())
	m, err = tiermem.Open(dir, nil)
	must(t, err)
	defer m.Close()
	for _, tr := range tiers {
		if _, err := m.Retrieve(fmt.Sprint("bad-", tr)); !errors.Is(err, tiermem.ErrCorrupt) {
			t.Errorf("after reopening, Retrieve of the corrupt header stored in %v = %v, want ErrCorrupt", tr, err)
		}
	}
}
