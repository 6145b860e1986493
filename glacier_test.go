package tiermem_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/tier/object"
)

// glacierOptions are small budgets over a glacier tier in the directory's
// default place, small packs so that tests make several, and no loop.
func glacierOptions(cold int64) *tiermem.Options {
	return &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 64 << 10}, Warm: tiermem.TierOptions{Size: 128 << 10},
		Cold: tiermem.TierOptions{Size: cold}, MigrateInterval: -1,
		Glacier: tiermem.GlacierOptions{Object: &object.Options{PackSize: 64 << 10, Compression: object.ZstdFastest}},
	}
}

// storeMany stores n keys of valueFor bytes, letting the Manager place them.
func storeMany(t *testing.T, m *tiermem.Manager, prefix string, n int) []string {
	t.Helper()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s%d", prefix, i)
		must(t, m.Store(keys[i], valueFor(keys[i])))
	}
	return keys
}

// checkAll reads every key back, byte for byte, and counts the keys each
// tier serves.
func checkAll(t *testing.T, m *tiermem.Manager, keys []string) map[tiermem.Tier]int {
	t.Helper()
	in := map[tiermem.Tier]int{}
	for _, key := range keys {
		got, err := m.Retrieve(key)
		if err != nil || !bytes.Equal(got, valueFor(key)) {
			t.Fatalf("%s: %d bytes, %v", key, len(got), err)
		}
		in[tierOf(t, m, key)]++
	}
	return in
}

// TestColdFullSpillsToGlacier: with a cold budget far smaller than the
// data, Stores push cold's victims down to glacier in packs; every value
// reads back, a reopen finds every glacier key, and the packs are few.
func TestColdFullSpillsToGlacier(t *testing.T) {
	dir := t.TempDir()
	o := glacierOptions(1 << 20)
	m, err := tiermem.Open(dir, o)
	must(t, err)
	keys := storeMany(t, m, "k", 300) // about 3 MB
	in := checkAll(t, m, keys)
	u := m.Usage()
	if in[tiermem.Glacier] == 0 || u[tiermem.Glacier].Items == 0 || u[tiermem.Cold].Used > o.Cold.Size {
		t.Fatalf("served by %v, usage %+v", in, u)
	}
	packs, err := m.GlacierPacks()
	must(t, err)
	if len(packs) == 0 || int64(len(packs)) > u[tiermem.Glacier].Items/2 {
		t.Errorf("%d packs for %d glacier values: not batched", len(packs), u[tiermem.Glacier].Items)
	}
	if s := m.Stats(); s.Tiers[tiermem.Cold].Demotions == 0 || s.Tiers[tiermem.Cold].Evictions == 0 {
		t.Errorf("cold demotions not counted: %+v", s.Tiers[tiermem.Cold])
	}
	must(t, m.VerifyGlacier())
	must(t, m.Close())

	m, err = tiermem.Open(dir, o)
	must(t, err)
	defer m.Close()
	if got := checkAll(t, m, keys)[tiermem.Glacier]; got != in[tiermem.Glacier] {
		t.Errorf("after reopen glacier serves %d keys, before %d", got, in[tiermem.Glacier])
	}
}

// TestGlacierFollowsEveryOperation: Store into glacier, Tier, Move and
// Copy both ways, TTL, pinned values, arrays, Delete and Clear.
func TestGlacierFollowsEveryOperation(t *testing.T) {
	clock := tiermem.NewFakeClock()
	o := glacierOptions(8 << 20)
	tiermem.SetClock(o, clock)
	m := open(t, o)
	must(t, m.Store("g", []byte("in glacier"), tiermem.InTier(tiermem.Glacier)))
	if tierOf(t, m, "g") != tiermem.Glacier {
		t.Fatalf("Store InTier(Glacier) went to %v", tierOf(t, m, "g"))
	}
	must(t, m.Move("g", tiermem.Hot))
	if tierOf(t, m, "g") != tiermem.Hot || m.Usage()[tiermem.Glacier].Items != 0 {
		t.Fatalf("Move to hot: in %v, usage %+v", tierOf(t, m, "g"), m.Usage())
	}
	must(t, m.Move("g", tiermem.Glacier))
	must(t, m.Copy("g", tiermem.Warm))
	if tierOf(t, m, "g") != tiermem.Warm || m.Usage()[tiermem.Glacier].Items != 1 {
		t.Fatalf("Copy to warm: in %v, usage %+v", tierOf(t, m, "g"), m.Usage())
	}
	must(t, m.Store("g", []byte("replaced")))
	if m.Usage()[tiermem.Glacier].Items != 0 {
		t.Fatal("a Store left the old glacier copy")
	}

	arr := tiermem.Float64Array([]float64{1, 2, 3, 4, 5, 6}, 2, 3)
	must(t, m.StoreArray("arr", arr, tiermem.InTier(tiermem.Glacier), tiermem.Pinned()))
	got, err := m.RetrieveArray("arr")
	must(t, err)
	if fmt.Sprint(got.Shape) != "[2 3]" || got.DType != arr.DType || !bytes.Equal(got.Data, arr.Data) {
		t.Fatalf("array from glacier: %+v", got)
	}

	must(t, m.Store("ttl", []byte("short-lived"), tiermem.InTier(tiermem.Glacier), tiermem.WithTTL(time.Minute)))
	clock.Advance(2 * time.Minute)
	if _, err := m.Retrieve("ttl"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Fatalf("expired glacier value: %v", err)
	}
	must(t, m.Migrate())
	if m.Usage()[tiermem.Glacier].Items != 1 { // arr only
		t.Fatalf("after expiry: %+v", m.Usage()[tiermem.Glacier])
	}
	must(t, m.Delete("arr"))
	if _, err := m.Retrieve("arr"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Fatalf("deleted glacier value: %v", err)
	}
	for i := range 5 {
		must(t, m.Store(fmt.Sprint("c", i), []byte("x"), tiermem.InTier(tiermem.Glacier)))
	}
	must(t, m.Clear())
	if u := m.Usage(); u[tiermem.Glacier].Items != 0 {
		t.Fatalf("Clear left %+v", u[tiermem.Glacier])
	}
}

// TestIdleColdValuesGoToGlacierAndReadsBringThemBack: a value unwritten
// for cold's DemoteAfter goes to glacier at the next sweep, pinned ones
// stay, and PromoteHits reads bring a value back to cold.
func TestIdleColdValuesGoToGlacierAndReadsBringThemBack(t *testing.T) {
	clock := tiermem.NewFakeClock()
	o := glacierOptions(8 << 20)
	o.Cold.DemoteAfter = time.Hour
	tiermem.SetClock(o, clock)
	m := open(t, o)
	for i := range 20 {
		must(t, m.Store(fmt.Sprint("idle", i), valueFor(fmt.Sprint("idle", i)), tiermem.InTier(tiermem.Cold)))
	}
	must(t, m.Store("pinned", []byte("stay"), tiermem.InTier(tiermem.Cold), tiermem.Pinned()))
	// The cold tier's idleness is by write age, sweep to sweep: a key
	// unwritten since the previous sweep, at least DemoteAfter ago, is idle.
	clock.Advance(2 * time.Hour)
	must(t, m.Migrate()) // the first sweep since Open: marks what is written now
	if u := m.Usage(); u[tiermem.Glacier].Items != 0 {
		t.Fatalf("keys written after the previous sweep left at once: %+v", u)
	}
	clock.Advance(2 * time.Hour)
	must(t, m.Migrate())
	if u := m.Usage(); u[tiermem.Glacier].Items != 20 || u[tiermem.Cold].Items != 1 {
		t.Fatalf("after an idle pass: %+v", u)
	}
	if tierOf(t, m, "pinned") != tiermem.Cold {
		t.Fatal("a pinned value left cold")
	}
	for range 3 {
		if _, err := m.Retrieve("idle7"); err != nil {
			t.Fatal(err)
		}
	}
	must(t, m.Migrate())
	if tierOf(t, m, "idle7") != tiermem.Cold {
		t.Fatalf("read 3 times, idle7 is in %v", tierOf(t, m, "idle7"))
	}
	if s := m.Stats(); s.Tiers[tiermem.Cold].Promotions != 1 {
		t.Errorf("promotions into cold: %+v", s.Tiers[tiermem.Cold])
	}
}

// TestGlacierBitFlipIsCorrupt: a flipped byte in a pack makes that value's
// read ErrCorrupt, never other bytes, and VerifyGlacier names the pack.
func TestGlacierBitFlipIsCorrupt(t *testing.T) {
	dir := t.TempDir()
	o := glacierOptions(8 << 20)
	o.Glacier.Object.Compression = object.NoCompression
	m, err := tiermem.Open(dir, o)
	must(t, err)
	defer m.Close()
	value := bytes.Repeat([]byte("glacier bytes "), 200)
	must(t, m.Store("v", value, tiermem.InTier(tiermem.Glacier)))
	must(t, m.Migrate()) // a pass uploads what Stores left in the open pack
	packs, _ := filepath.Glob(filepath.Join(dir, "glacier", "pack", "*.pack"))
	if len(packs) != 1 {
		t.Fatalf("packs: %v", packs)
	}
	b, err := os.ReadFile(packs[0])
	must(t, err)
	i := bytes.Index(b, value) + 1000
	b[i] ^= 0x10
	must(t, os.WriteFile(packs[0], b, 0o644))
	if got, err := m.Retrieve("v"); !errors.Is(err, tiermem.ErrCorrupt) {
		t.Fatalf("Retrieve of a flipped value: %d bytes, %v", len(got), err)
	}
	if err := m.VerifyGlacier(); !errors.Is(err, tiermem.ErrCorrupt) {
		t.Fatalf("VerifyGlacier: %v", err)
	}
}

// switchable is a bucket that fails every request while down: the glacier
// store unreachable, for fault injection.
type switchable struct {
	object.Bucket
	down atomic.Bool
}

var errDown = errors.New("injected: store unreachable")

func (s *switchable) Put(ctx context.Context, name string, data []byte) error {
	if s.down.Load() {
		return errDown
	}
	return s.Bucket.Put(ctx, name, data)
}

func (s *switchable) Get(ctx context.Context, name string, off, n int64) ([]byte, error) {
	if s.down.Load() {
		return nil, errDown
	}
	return s.Bucket.Get(ctx, name, off, n)
}

// TestGlacierUnreachable: while the store is down, demotions fail and the
// values stay in cold, a glacier read says the store is unavailable, and
// the rest of the Manager works; once it is back, everything proceeds and
// nothing was lost.
func TestGlacierUnreachable(t *testing.T) {
	bucket := &switchable{Bucket: object.NewMem()}
	st, err := object.Open(bucket, &object.Options{PackSize: 64 << 10, Retries: 1, Backoff: time.Millisecond})
	must(t, err)
	o := glacierOptions(1 << 20)
	o.Glacier = tiermem.GlacierOptions{Store: st}
	m := open(t, o)
	must(t, m.Store("deep", []byte("in glacier"), tiermem.InTier(tiermem.Glacier)))
	must(t, m.Migrate())
	bucket.down.Store(true)

	if _, err := m.Retrieve("deep"); !errors.Is(err, tiermem.ErrUnavailable) {
		t.Fatalf("glacier read while down: %v", err)
	}
	var keys []string
	var refused error
	for i := 0; i < 300 && refused == nil; i++ {
		key := fmt.Sprint("k", i)
		if refused = m.Store(key, valueFor(key)); refused == nil {
			keys = append(keys, key)
		}
	}
	if !errors.Is(refused, tiermem.ErrUnavailable) {
		t.Fatalf("a Store that needs glacier while it is down: %v", refused)
	}
	checkAll(t, m, keys) // every acknowledged value is still readable
	must(t, m.Store("hot", []byte("still works"), tiermem.InTier(tiermem.Hot)))

	bucket.down.Store(false)
	more := storeMany(t, m, "after", 100)
	checkAll(t, m, append(keys, more...))
	if got, err := m.Retrieve("deep"); err != nil || string(got) != "in glacier" {
		t.Fatalf("glacier value after the store came back: %q, %v", got, err)
	}
}

// TestGlacierUnderConcurrency: writers, readers and movers on a cold
// budget far below the data, with migration passes, then a Close in the
// middle; every acknowledged value reads back after reopening.
func TestGlacierUnderConcurrency(t *testing.T) {
	dir := t.TempDir()
	o := glacierOptions(512 << 10)
	o.MigrateInterval = 5 * time.Millisecond
	m, err := tiermem.Open(dir, o)
	must(t, err)
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				key := fmt.Sprintf("w%d-%d", w, i%150)
				err := m.Store(key, valueFor(key))
				if errors.Is(err, tiermem.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("Store %s: %v", key, err)
					return
				}
				mu.Lock()
				acked[key] = true
				mu.Unlock()
				if _, err := m.Retrieve(fmt.Sprintf("w%d-%d", w, i/2%150)); err != nil && !errors.Is(err, tiermem.ErrNotFound) && !errors.Is(err, tiermem.ErrClosed) {
					t.Errorf("Retrieve: %v", err)
					return
				}
				if i%7 == 0 {
					err := m.Move(key, tiermem.Tier(i%4))
					if err != nil && !errors.Is(err, tiermem.ErrClosed) && !errors.Is(err, tiermem.ErrNotFound) && !errors.Is(err, tiermem.ErrNoSpace) {
						t.Errorf("Move: %v", err)
						return
					}
				}
			}
		})
	}
	time.Sleep(time.Second)
	must(t, m.Close())
	wg.Wait()
	m, err = tiermem.Open(dir, o)
	must(t, err)
	defer m.Close()
	var keys []string
	for key := range acked {
		keys = append(keys, key)
	}
	in := checkAll(t, m, keys)
	t.Logf("%d keys, served by %v", len(keys), in)
	if in[tiermem.Glacier] == 0 {
		t.Error("nothing reached glacier")
	}
}
