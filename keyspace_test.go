package tiermem_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// scanAll runs a whole Scan iteration and returns what it returned, with
// how many times each key came back.
func scanAll(t *testing.T, m *tiermem.Manager, pattern string, count int) map[string]int {
	t.Helper()
	seen := map[string]int{}
	var cursor uint64
	for calls := 0; ; calls++ {
		keys, next, err := m.Scan(cursor, pattern, count)
		must(t, err)
		for _, k := range keys {
			seen[k]++
		}
		if next == 0 {
			return seen
		}
		if next <= cursor {
			t.Fatalf("cursor went from %d back to %d", cursor, next)
		}
		cursor = next
	}
}

func TestScanReturnsEveryKeyOnce(t *testing.T) {
	m := open(t, nil)
	want := map[string]int{}
	for i := range 500 {
		key := fmt.Sprint("key:", i)
		must(t, m.Store(key, []byte("v"), tiermem.InTier(tiermem.Tier(i%3))))
		want[key] = 1
	}
	must(t, m.Copy("key:0", tiermem.Cold)) // in two tiers: still once
	for _, count := range []int{0, 1, 7, 100, 10000} {
		got := scanAll(t, m, "", count)
		if len(got) != len(want) {
			t.Fatalf("count %d: %d keys, want %d", count, len(got), len(want))
		}
		for k, n := range got {
			if want[k] != n {
				t.Fatalf("count %d: %q returned %d times", count, k, n)
			}
		}
	}
	n, err := m.Len()
	must(t, err)
	if n != 500 {
		t.Errorf("Len = %d, want 500", n)
	}
}

func TestScanMatchAndEmpty(t *testing.T) {
	m := open(t, nil)
	keys, next, err := m.Scan(0, "", 10)
	if err != nil || len(keys) != 0 || next != 0 {
		t.Fatalf("empty: %q, %d, %v", keys, next, err)
	}
	for _, k := range []string{"user:1", "user:2", "order:1", "user:10", "a*b", "a\x00b"} {
		must(t, m.Store(k, []byte("v")))
	}
	for pattern, want := range map[string][]string{
		"user:?":  {"user:1", "user:2"},
		"user:*":  {"user:1", "user:2", "user:10"},
		"*:1*":    {"user:1", "order:1", "user:10"},
		`a\*b`:    {"a*b"},
		"a?b":     {"a*b", "a\x00b"},
		"[ou]*:1": {"user:1", "order:1"},
		"nothing": nil,
	} {
		got := scanAll(t, m, pattern, 2)
		var keys []string
		for k := range got {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		slices.Sort(want)
		if !slices.Equal(keys, want) {
			t.Errorf("MATCH %q: %q, want %q", pattern, keys, want)
		}
	}
}

func TestScanAndLenSkipExpiredKeys(t *testing.T) {
	m, clock := openClocked(t, tiermem.Options{})
	must(t, m.Store("short", []byte("v"), tiermem.WithTTL(time.Second)))
	must(t, m.Store("long", []byte("v"), tiermem.WithTTL(time.Hour)))
	clock.Advance(2 * time.Second)
	if got := scanAll(t, m, "", 10); len(got) != 1 || got["long"] != 1 {
		t.Errorf("Scan after expiry: %v", got)
	}
	if n, err := m.Len(); n != 1 || err != nil {
		t.Errorf("Len = %d, %v; want 1", n, err)
	}
}

// TestScanWhileKeysMove is the SCAN guarantee under load: keys present for
// the whole iteration come back at least once while they move between
// every tier, and other keys come and go. Each mover pauses between moves,
// as migration does, so that no key moves twice within one call.
func TestScanWhileKeysMove(t *testing.T) {
	m := open(t, &tiermem.Options{Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true}, MigrateInterval: -1})
	const stable = 300
	for i := range stable {
		must(t, m.Store(fmt.Sprint("stable:", i), []byte("value")))
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				key := fmt.Sprint("stable:", (i*7+w)%stable)
				if err := m.Move(key, tiermem.Tier((i+w)%3)); err != nil {
					t.Error(err)
					return
				}
				churn := fmt.Sprint("churn:", w, ":", i%50)
				m.Store(churn, []byte("x"))
				m.Delete(fmt.Sprint("churn:", w, ":", (i+25)%50))
				time.Sleep(50 * time.Microsecond)
			}
		}()
	}
	for range 5 {
		got := scanAll(t, m, "stable:*", 16)
		for i := range stable {
			if got[fmt.Sprint("stable:", i)] == 0 {
				t.Errorf("stable:%d was never returned", i)
			}
		}
	}
	stop.Store(true)
	wg.Wait()
}

func TestScanAfterClose(t *testing.T) {
	m := open(t, nil)
	m.Close()
	if _, _, err := m.Scan(0, "", 10); !errors.Is(err, tiermem.ErrClosed) {
		t.Errorf("Scan after Close: %v", err)
	}
	if _, err := m.Len(); !errors.Is(err, tiermem.ErrClosed) {
		t.Errorf("Len after Close: %v", err)
	}
}

// TestLenWhileKeysMove counts keys while moves and stores run on the same
// tiers (an earlier Len looked into one store from inside another's Scan,
// which a move between the two could deadlock), and counts right once
// they stop.
func TestLenWhileKeysMove(t *testing.T) {
	m := open(t, &tiermem.Options{Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true}, MigrateInterval: -1})
	for i := range 200 {
		must(t, m.Store(fmt.Sprint("k", i), []byte("v")))
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				m.Move(fmt.Sprint("k", (i*13+w)%200), tiermem.Tier((i+w)%3))
				churn := fmt.Sprint("churn", w, ":", i%20)
				m.Store(churn, []byte("w"), tiermem.InTier(tiermem.Tier((i+w+1)%2)))
				m.Delete(churn)
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200 {
			if _, err := m.Len(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("Len did not return within 60s: deadlocked")
	}
	stop.Store(true)
	wg.Wait()
	must(t, m.Copy("k1", tiermem.Cold))
	if n, err := m.Len(); n != 200 || err != nil {
		t.Errorf("Len = %d, %v; want 200", n, err)
	}
}
