package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/vfs"
	"github.com/tiermem/tiermem/tier/disk"
)

// TestSetDurabilityCopiesMemoryToTheLog stores values in hot and warm with
// None, switches to Always, and checks that each has its copy in the cold
// log, that later Stores write through, and that going back to None
// keeps every value.
func TestSetDurabilityCopiesMemoryToTheLog(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1,
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}})
	for i := range 20 {
		must(t, m.Store(fmt.Sprint("k", i), valueFor(fmt.Sprint("k", i))[:100], tiermem.InTier(tiermem.Tier(i%2))))
	}
	if got := m.Usage()[tiermem.Cold].Items; got != 0 {
		t.Fatalf("with None the cold log holds %d keys", got)
	}
	must(t, m.SetDurability(tiermem.Always))
	if m.Durability() != tiermem.Always {
		t.Fatalf("Durability() = %v after SetDurability(Always)", m.Durability())
	}
	if missing := tiermem.MemoryKeysWithoutLogCopy(m); len(missing) != 0 {
		t.Fatalf("after SetDurability(Always) the log misses %v", missing)
	}
	must(t, m.Store("after", []byte("v"), tiermem.InTier(tiermem.Hot)))
	if got := m.Usage()[tiermem.Cold].Items; got != 21 {
		t.Fatalf("a Store after the switch did not write through: cold holds %d keys, want 21", got)
	}
	must(t, m.SetDurability(tiermem.EverySecond))
	must(t, m.SetDurability(tiermem.None))
	must(t, m.Store("none", []byte("v"), tiermem.InTier(tiermem.Hot)))
	if got := m.Usage()[tiermem.Cold].Items; got != 21 {
		t.Fatalf("a Store after going back to None wrote through: cold holds %d keys", got)
	}
	for i := range 20 {
		k := fmt.Sprint("k", i)
		if got, err := m.Retrieve(k); err != nil || !bytes.Equal(got, valueFor(k)[:100]) {
			t.Fatalf("%s after the switches: %v", k, err)
		}
	}
}

func TestSetDurabilityErrors(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1})
	for _, d := range []tiermem.Durability{-1, 3} {
		if err := m.SetDurability(d); !errors.Is(err, tiermem.ErrOptions) {
			t.Errorf("SetDurability(%d) = %v, want ErrOptions", int(d), err)
		}
	}
	must(t, m.SetDurability(tiermem.None)) // the same: nothing to do
	must(t, m.Close())
	if err := m.SetDurability(tiermem.Always); !errors.Is(err, tiermem.ErrClosed) {
		t.Errorf("SetDurability after Close = %v, want ErrClosed", err)
	}

	cold, err := disk.Open(t.TempDir(), nil)
	must(t, err)
	given := open(t, &tiermem.Options{MigrateInterval: -1, Cold: tiermem.TierOptions{Store: cold}})
	if err := given.SetDurability(tiermem.Always); !errors.Is(err, tiermem.ErrOptions) {
		t.Errorf("SetDurability with a cold store handed over = %v, want ErrOptions", err)
	}
	if given.Durability() != tiermem.None {
		t.Errorf("a refused SetDurability left %v", given.Durability())
	}
}

// TestSetDurabilityFullDiskStaysNone: when the log cannot take the memory
// tiers' values, SetDurability fails, the Manager keeps None and every
// value, and the switch works once space returns.
func TestSetDurabilityFullDiskStaysNone(t *testing.T) {
	fault := vfs.NewFault(vfs.Default)
	o := &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 4 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}}
	tiermem.SetColdFS(o, fault)
	m := open(t, o)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 40 {
		v := make([]byte, 30<<10) // random: the log's compression cannot shrink it
		for j := range v {
			v[j] = byte(rng.Uint32())
		}
		must(t, m.Store(fmt.Sprint("k", i), v, tiermem.InTier(tiermem.Tier(i%2))))
	}
	fault.SetSpace(100 << 10)
	err := m.SetDurability(tiermem.Always)
	if !errors.Is(err, tiermem.ErrNoSpace) {
		t.Fatalf("SetDurability with a full disk = %v, want ErrNoSpace", err)
	}
	if m.Durability() != tiermem.None {
		t.Fatalf("a failed SetDurability left %v", m.Durability())
	}
	for i := range 40 {
		if _, err := m.Retrieve(fmt.Sprint("k", i)); err != nil {
			t.Fatalf("k%d after a failed switch: %v", i, err)
		}
	}
	fault.SetSpace(-1)
	must(t, m.SetDurability(tiermem.Always))
	if missing := tiermem.MemoryKeysWithoutLogCopy(m); len(missing) != 0 {
		t.Fatalf("after the switch succeeded the log misses %v", missing)
	}
}

// TestSetDurabilityUnderLoad switches durability over and over while
// goroutines store, read, move, delete and the migration loop runs, with
// tiny memory budgets so that values keep moving between tiers (run with
// -race). Whenever the Manager is durable and at rest, every memory value
// has its copy in the log; every value reads back as stored.
func TestSetDurabilityUnderLoad(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: time.Millisecond,
		Hot: tiermem.TierOptions{Size: 64 << 10}, Warm: tiermem.TierOptions{Size: 128 << 10},
		Cold: tiermem.TierOptions{Size: 64 << 20}})
	var stop atomic.Bool
	var wg sync.WaitGroup
	keyOf := func(w, i int) string { return fmt.Sprintf("w%d-%d", w, i%40) }
	valueOf := func(k string, i int) []byte { return bytes.Repeat([]byte(k), 100+i%300) }
	for w := range 3 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				k := keyOf(w, i)
				var err error
				switch i % 5 {
				case 0, 1:
					err = m.Store(k, valueOf(k, i))
				case 2:
					var got []byte
					if got, err = m.Retrieve(k); err == nil && (len(got)%len(k) != 0 || !bytes.Equal(got, valueOf(k, len(got)/len(k)-100))) {
						err = fmt.Errorf("%s read %d bytes no Store wrote", k, len(got))
					}
				case 3:
					err = m.Move(k, tiermem.Tier(i%3))
				case 4:
					if i%20 == 4 {
						err = m.Delete(k)
					}
				}
				if err != nil && !errors.Is(err, tiermem.ErrNotFound) {
					t.Error(err)
					return
				}
			}
		})
	}
	modes := []tiermem.Durability{tiermem.Always, tiermem.None, tiermem.EverySecond, tiermem.None}
	for i := range 40 {
		must(t, m.SetDurability(modes[i%len(modes)]))
		time.Sleep(2 * time.Millisecond)
	}
	must(t, m.SetDurability(tiermem.Always))
	stop.Store(true)
	wg.Wait()
	m.Migrate()
	if missing := tiermem.MemoryKeysWithoutLogCopy(m); len(missing) != 0 {
		t.Fatalf("durable at rest, and the log misses %v", missing)
	}
}

// TestSetDurabilityKeysMovingDuringTheSweep moves memory-only values while
// SetDurability's sweep is between its listing of a tier and its copies:
// a value promoted from warm into the hot tier the sweep has listed, and
// values pushed from warm down to cold by new Stores. Each must reach the
// log (the first from the move, the others as plain demotions).
func TestSetDurabilityKeysMovingDuringTheSweep(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1,
		Hot: tiermem.TierOptions{Size: 64 << 10}, Warm: tiermem.TierOptions{Size: 64 << 10},
		Cold: tiermem.TierOptions{Size: 64 << 20}})
	value := func(k string) []byte { return bytes.Repeat([]byte(k), 4<<10/len(k)) }
	for i := range 8 {
		k := fmt.Sprint("warm", i)
		must(t, m.Store(k, value(k), tiermem.InTier(tiermem.Warm)))
	}
	tiermem.SetSweepListed(m, func(listed tiermem.Tier) {
		if listed != tiermem.Hot {
			return
		}
		tiermem.SetSweepListed(m, nil)
		must(t, m.Move("warm0", tiermem.Hot)) // hot is listed, warm not yet: only the move can copy it
		for i := range 20 {                   // new values, written through, push the old ones out of warm
			k := fmt.Sprint("new", i)
			must(t, m.Store(k, value(k), tiermem.InTier(tiermem.Warm)))
		}
	})
	must(t, m.SetDurability(tiermem.Always))
	if missing := tiermem.MemoryKeysWithoutLogCopy(m); len(missing) != 0 {
		t.Fatalf("the log misses %v", missing)
	}
	for i := range 8 {
		k := fmt.Sprint("warm", i)
		if got, err := m.Retrieve(k); err != nil || !bytes.Equal(got, value(k)) {
			t.Fatalf("%s: %v", k, err)
		}
	}
}
