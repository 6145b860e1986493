package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/vfs"
)

// TestHostileFullDiskDuringRoomMakingLosesNothing: the cold disk fills up
// while Stores make room by demoting (hot → warm → cold), passes run and
// Moves go on. A demotion writes before it deletes, so a failed one leaves
// the value where it was: every Store that returned nil still reads back,
// also after a Close that fails on the full disk, a second Close once space
// returns, and a reopen.
func TestHostileFullDiskDuringRoomMakingLosesNothing(t *testing.T) {
	for _, d := range []tiermem.Durability{tiermem.None, tiermem.Always} {
		t.Run(d.String(), func(t *testing.T) {
			fault := vfs.NewFault(vfs.Default)
			o := tiermem.Options{MigrateInterval: -1, Durability: d, DemoteAfter: -1,
				Hot: tiermem.TierOptions{Size: 128 << 10}, Warm: tiermem.TierOptions{Size: 128 << 10},
				Cold: tiermem.TierOptions{Size: 1 << 30}}
			tiermem.SetColdFS(&o, fault)
			dir := t.TempDir()
			m, err := tiermem.Open(dir, &o)
			must(t, err)
			t.Cleanup(func() { m.Close() })
			var mu sync.Mutex
			acked := map[string]int{}
			full := 0
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for g := range 3 {
				hostileLoop(&wg, stop, func(n int) {
					i := g + 3*(n%40)
					key := fmt.Sprint("k", i)
					mu.Lock()
					defer mu.Unlock() // one Store of a key at a time, so the last acknowledged is the value
					err := m.Store(key, hostileValue(i, n, 8<<10), tiermem.InTier(tiermem.Tier(n%3)))
					if err == nil {
						acked[key] = n
					} else if errors.Is(err, tiermem.ErrNoSpace) {
						full++
					} else {
						t.Errorf("Store: %v", err)
					}
				})
			}
			hostileLoop(&wg, stop, func(n int) {
				m.Move(fmt.Sprint("k", n%120), tiermem.Tier(n%4))
				m.Migrate()
			})
			time.Sleep(300 * time.Millisecond)
			fault.SetSpace(64 << 10)
			time.Sleep(1500 * time.Millisecond)
			close(stop)
			wg.Wait()
			if full == 0 {
				t.Fatal("no Store found the disk full")
			}
			t.Logf("%d Stores found the disk full", full)
			check := func(m *tiermem.Manager, when string) {
				for key, n := range acked {
					var i int
					fmt.Sscan(key[1:], &i)
					got, err := m.Retrieve(key)
					if err != nil || !bytes.Equal(got, hostileValue(i, n, 8<<10)) {
						t.Errorf("%s: acknowledged %q (generation %d): %v", when, key, n, err)
					}
				}
			}
			check(m, "on a full disk")
			if err := m.Close(); err == nil {
				t.Log("Close on the full disk succeeded")
			} else {
				check(m, "after a Close that failed")
			}
			fault.SetSpace(-1)
			if err := m.Close(); err != nil && !errors.Is(err, tiermem.ErrClosed) {
				t.Fatalf("Close once space returned: %v", err)
			}
			m, err = tiermem.Open(dir, &o)
			must(t, err)
			check(m, "after reopen")
		})
	}
}

// TestHostileFailedStoreOverGlacierValueLosesIt: with Durability Always, a
// Store of a key whose value lies in glacier fails when the cold log is
// full. "A failed Store never changes what the next Open finds" and the
// key "reads as it did": the glacier value must still be there.
func TestHostileFailedStoreOverGlacierValueLosesIt(t *testing.T) {
	writes := map[string]func(m *tiermem.Manager, key string) error{
		"StoreHot": func(m *tiermem.Manager, key string) error {
			return m.Store(key, hostileValue(1, 1, 8<<10), tiermem.InTier(tiermem.Hot))
		},
		"StoreWarm": func(m *tiermem.Manager, key string) error {
			return m.Store(key, hostileValue(1, 1, 8<<10), tiermem.InTier(tiermem.Warm))
		},
		"StoreAnywhere": func(m *tiermem.Manager, key string) error {
			return m.Store(key, hostileValue(1, 1, 8<<10))
		},
	}
	for name, write := range writes {
		t.Run(name, func(t *testing.T) {
			fault := vfs.NewFault(vfs.Default)
			o := tiermem.Options{MigrateInterval: -1, Durability: tiermem.Always,
				Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 1 << 20},
				Cold: tiermem.TierOptions{Size: 1 << 30}}
			tiermem.SetColdFS(&o, fault)
			dir := t.TempDir()
			m, err := tiermem.Open(dir, &o)
			must(t, err)
			t.Cleanup(func() { m.Close() })
			old := hostileValue(1, 0, 8<<10)
			must(t, m.Store("k", old, tiermem.InTier(tiermem.Glacier)))
			fault.SetSpace(0)
			if err := write(m, "k"); !errors.Is(err, tiermem.ErrNoSpace) {
				t.Fatalf("%s with the cold log full = %v, want ErrNoSpace", name, err)
			}
			if got, err := m.Retrieve("k"); err != nil || !bytes.Equal(got, old) {
				t.Errorf("after the failed %s, the key's glacier value: %v", name, err)
			}
			fault.SetSpace(-1)
			must(t, m.Close())
			m, err = tiermem.Open(dir, &o)
			must(t, err)
			if got, err := m.Retrieve("k"); err != nil || !bytes.Equal(got, old) {
				t.Errorf("after the failed %s and a reopen: %v", name, err)
			}
		})
	}
}
