package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestHotTierUnderConcurrencyAndClose runs Stores (plain, pinned, from byte
// keys), Retrieves, Deletes, Moves, Pins and migration passes against a hot
// tier of 64 KiB whose default policy lives in its entries, with a Close in
// the middle. Each goroutine owns its keys, so every read must return the
// goroutine's last acknowledged value; the hot budget must hold at every
// look; pinned keys stay hot until a Move; and after reopening every
// acknowledged value is there.
func TestHotTierUnderConcurrencyAndClose(t *testing.T) {
	rounds := 3
	if testing.Short() {
		rounds = 1
	}
	for round := range rounds {
		hotUnderConcurrency(t, round)
	}
}

func hotUnderConcurrency(t *testing.T, round int) {
	dir := t.TempDir()
	o := tiermem.Options{MigrateInterval: -1, DemoteAfter: time.Millisecond,
		Hot: tiermem.TierOptions{Size: 64 << 10}, Warm: tiermem.TierOptions{Size: 256 << 10},
		Cold: tiermem.TierOptions{Size: 1 << 30}}
	m, err := tiermem.Open(dir, &o)
	must(t, err)
	const workers = 5
	models := make([]map[string][]byte, workers) // acknowledged values, nil for a delete
	var wg sync.WaitGroup
	stop := make(chan struct{})
	fail := func(format string, args ...any) {
		t.Errorf(format, args...)
	}
	for g := range workers {
		models[g] = map[string][]byte{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			model := models[g]
			rng := rand.New(rand.NewPCG(uint64(g), uint64(round)))
			for i := 0; ; i++ {
				key := fmt.Sprintf("g%d-%d", g, rng.IntN(40))
				var err error
				switch op := rng.IntN(20); {
				case op < 7:
					v := bytes.Repeat([]byte{byte(g), byte(i)}, 20+rng.IntN(2000))
					opts := []tiermem.StoreOption{tiermem.InTier(tiermem.Hot)}
					pin := key == fmt.Sprintf("g%d-0", g) // one small pinned key each
					if pin {
						v, opts = v[:40], append(opts, tiermem.Pinned())
					}
					if op%2 == 0 {
						err = m.StoreBytes([]byte(key), v, opts...)
					} else {
						err = m.Store(key, v, opts...)
					}
					if err == nil {
						model[key] = v
					}
				case op < 12:
					var got []byte
					got, err = m.Retrieve(key)
					want, known := model[key]
					switch {
					case err == nil && known && !bytes.Equal(got, want):
						fail("%s: read %d bytes, want the %d last stored", key, len(got), len(want))
					case errors.Is(err, tiermem.ErrNotFound) && want != nil:
						fail("%s: not found, want %d bytes", key, len(want))
					}
				case op < 14:
					err = m.Delete(key)
					if err == nil {
						model[key] = nil
					}
				case op < 17:
					err = m.Move(key, []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold}[rng.IntN(3)])
				case op < 18:
					err = m.View(key, func(v []byte) error {
						if want := model[key]; want != nil && !bytes.Equal(v, want) {
							fail("%s: viewed %d bytes, want the %d last stored", key, len(v), len(want))
						}
						return nil
					})
				default:
					err = m.Migrate()
				}
				if errors.Is(err, tiermem.ErrClosed) {
					return
				}
				if err != nil && !errors.Is(err, tiermem.ErrNotFound) && !errors.Is(err, tiermem.ErrNoSpace) {
					fail("%s: %v", key, err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // the budget holds at every look
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if u := m.Usage()[tiermem.Hot]; u.Used > u.Capacity {
				fail("hot tier over its budget: %d of %d", u.Used, u.Capacity)
				return
			}
			time.Sleep(50 * time.Microsecond)
		}
	}()
	time.Sleep(time.Duration(20+10*round) * time.Millisecond)
	must(t, m.Close())
	close(stop)
	wg.Wait()
	m, err = tiermem.Open(dir, &o)
	must(t, err)
	defer m.Close()
	for g, model := range models {
		for key, want := range model {
			got, err := m.Retrieve(key)
			switch {
			case want == nil && !errors.Is(err, tiermem.ErrNotFound):
				t.Errorf("round %d, g%d: deleted %s after reopen: %d bytes, %v", round, g, key, len(got), err)
			case want != nil && (err != nil || !bytes.Equal(got, want)):
				t.Errorf("round %d, g%d: %s after reopen: %d bytes, %v; want %d bytes", round, g, key, len(got), err, len(want))
			}
		}
	}
}

// TestHotVictimsSparePins fills a small hot tier with pinned and unpinned
// values, then stores more: the pinned values stay hot whatever the policy
// (the default, Adaptive, and LRU), the others make the room; a value
// pinned after it was stored (Pin) stays too, and one unpinned (Unpin)
// may leave.
func TestHotVictimsSparePins(t *testing.T) {
	for _, policy := range []tiermem.Policy{tiermem.PolicyAuto, tiermem.PolicyLRU} {
		t.Run(fmt.Sprint(policy), func(t *testing.T) {
			m, _ := openClocked(t, tiermem.Options{DemoteAfter: -1, Hot: tiermem.TierOptions{Size: 1 << 20, Policy: policy},
				Warm: tiermem.TierOptions{Size: 16 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}})
			value := make([]byte, 50<<10)
			for i := range 6 {
				must(t, m.Store(fmt.Sprint("pinned", i), value, tiermem.InTier(tiermem.Hot), tiermem.Pinned()))
			}
			must(t, m.Store("pinned-later", value, tiermem.InTier(tiermem.Hot)))
			must(t, m.Pin("pinned-later"))
			must(t, m.Store("unpinned-later", value, tiermem.InTier(tiermem.Hot), tiermem.Pinned()))
			must(t, m.Unpin("unpinned-later"))
			for i := range 60 {
				key := fmt.Sprint("plain", i)
				must(t, m.Store(key, value, tiermem.InTier(tiermem.Hot)))
				m.Retrieve(fmt.Sprint("pinned", i%6)) // reads of pinned keys change nothing
			}
			for i := range 6 {
				if got := tierOf(t, m, fmt.Sprint("pinned", i)); got != tiermem.Hot {
					t.Errorf("pinned%d left for %v", i, got)
				}
			}
			if got := tierOf(t, m, "pinned-later"); got != tiermem.Hot {
				t.Errorf("a value pinned after its Store left for %v", got)
			}
			if got := tierOf(t, m, "unpinned-later"); got == tiermem.Hot {
				t.Error("a value unpinned after its Store never left, though 60 others came after it")
			}
			if s := m.Stats(); s.Tiers[tiermem.Hot].Evictions == 0 {
				t.Error("no eviction from a full hot tier")
			}
			if u := m.Usage()[tiermem.Hot]; u.Used > u.Capacity {
				t.Errorf("hot over budget: %d of %d", u.Used, u.Capacity)
			}
		})
	}
}

// TestHotIdleDemotionIsExact: a hot value leaves at the first pass after
// DemoteAfter since its last counted read or store, not before; reads that
// do not count (IsPinned) do not keep it.
func TestHotIdleDemotionIsExact(t *testing.T) {
	m, clock := openClocked(t, tiermem.Options{DemoteAfter: 10 * time.Second})
	for _, key := range []string{"read", "viewed", "stored", "looked-at"} {
		must(t, m.Store(key, []byte("v"), tiermem.InTier(tiermem.Hot)))
	}
	clock.Advance(8 * time.Second)
	_, err := m.Retrieve("read")
	must(t, err)
	must(t, m.View("viewed", func([]byte) error { return nil }))
	must(t, m.Store("stored", []byte("w"), tiermem.InTier(tiermem.Hot)))
	_, err = m.IsPinned("looked-at")
	must(t, err)
	clock.Advance(2*time.Second - time.Millisecond)
	must(t, m.Migrate())
	for _, key := range []string{"read", "viewed", "stored", "looked-at"} {
		if got := tierOf(t, m, key); got != tiermem.Hot {
			t.Errorf("%s left for %v before DemoteAfter", key, got)
		}
	}
	clock.Advance(2 * time.Millisecond)
	must(t, m.Migrate())
	if got := tierOf(t, m, "looked-at"); got != tiermem.Warm {
		t.Errorf("looked-at is in %v at the first pass after DemoteAfter, want warm", got)
	}
	clock.Advance(8 * time.Second)
	must(t, m.Migrate())
	for _, key := range []string{"read", "viewed", "stored"} {
		if got := tierOf(t, m, key); got != tiermem.Warm {
			t.Errorf("%s is in %v at the first pass after DemoteAfter since its read, want warm", key, got)
		}
	}
}
