package tiermem_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// openLeftOpen opens a Manager the test closes itself: a deadlocked one
// would hang a t.Cleanup Close.
func openLeftOpen(t *testing.T, o tiermem.Options) *tiermem.Manager {
	t.Helper()
	m, err := tiermem.Open(t.TempDir(), &o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestConcurrentSetTierPolicy: two SetTierPolicy calls at once (two
// CONFIG SET tiermem-*-policy from two clients) both return. (A review
// found them deadlocked: each entered the gate, then took a mutex, and the
// one holding it waited in gate.QuiesceInside for the other, inside the
// gate and waiting for the mutex.)
func TestConcurrentSetTierPolicy(t *testing.T) {
	m := openLeftOpen(t, tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 8 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}})
	for i := range 2000 { // entries to list: each fill takes a while
		if err := m.Store(fmt.Sprint("w", i), make([]byte, 64), tiermem.InTier(tiermem.Warm)); err != nil {
			t.Fatal(err)
		}
	}
	policies := []tiermem.Policy{tiermem.PolicyLRU, tiermem.PolicyAuto}
	done := make(chan error, 2)
	for g := range 2 {
		go func() {
			for i := range 50 {
				if err := m.SetTierPolicy(tiermem.Warm, policies[(i+g)%2]); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 2 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("deadlock: two goroutines each calling SetTierPolicy(Warm, …) 50 times have not returned in 5 s (Manager left open)")
		}
	}
	m.Close()
}

// TestConcurrentSetDurability: the same with SetDurability.
func TestConcurrentSetDurability(t *testing.T) {
	m := openLeftOpen(t, tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 8 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}})
	for i := range 200 {
		if err := m.Store(fmt.Sprint("k", i), make([]byte, 64), tiermem.InTier(tiermem.Warm)); err != nil {
			t.Fatal(err)
		}
	}
	ds := []tiermem.Durability{tiermem.EverySecond, tiermem.Always}
	done := make(chan error, 2)
	for g := range 2 {
		go func() {
			for i := range 50 {
				if err := m.SetDurability(ds[(i+g)%2]); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 2 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("deadlock: two goroutines each calling SetDurability 50 times have not returned in 5 s (Manager left open)")
		}
	}
	m.Close()
}

// TestSetTierPolicyAndSetDurabilityTogether: the two settings from
// two clients at once.
func TestSetTierPolicyAndSetDurabilityTogether(t *testing.T) {
	m := openLeftOpen(t, tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 8 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}})
	for i := range 200 {
		if err := m.Store(fmt.Sprint("k", i), make([]byte, 64), tiermem.InTier(tiermem.Warm)); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 2)
	go func() {
		for i := range 200 {
			if err := m.SetTierPolicy(tiermem.Warm, []tiermem.Policy{tiermem.PolicyLRU, tiermem.PolicyAuto}[i%2]); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	go func() {
		for i := range 200 {
			if err := m.SetDurability([]tiermem.Durability{tiermem.EverySecond, tiermem.Always}[i%2]); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for range 2 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("deadlock: SetTierPolicy and SetDurability loops have not returned in 5 s (Manager left open)")
		}
	}
	m.Close()
}
