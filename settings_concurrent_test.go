package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
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

// settingsAtOnce opens a Manager with keys values in warm, runs each loop
// in its own goroutine for rounds rounds, and fails if one returns an
// error or they have not all returned in a minute (a deadlock: the
// Manager is then left open, since Close would hang too).
func settingsAtOnce(t *testing.T, keys, rounds int, loops ...func(m *tiermem.Manager, i int) error) {
	m := openLeftOpen(t, tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 8 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}})
	for i := range keys { // entries to list: each switch takes a while
		if err := m.Store(fmt.Sprint("w", i), make([]byte, 64), tiermem.InTier(tiermem.Warm)); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, len(loops))
	for _, loop := range loops {
		go func() {
			for i := range rounds {
				if err := loop(m, i); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	deadline := time.After(time.Minute)
	for range loops {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-deadline:
			t.Fatalf("deadlock: %d loops of runtime settings have not returned in a minute (Manager left open)", len(loops))
		}
	}
	m.Close()
}

// switchWarmPolicy and switchDurability are loops for settingsAtOnce,
// started at different phases.
func switchWarmPolicy(phase int) func(*tiermem.Manager, int) error {
	return func(m *tiermem.Manager, i int) error {
		return m.SetTierPolicy(tiermem.Warm, []tiermem.Policy{tiermem.PolicyLRU, tiermem.PolicyAuto}[(i+phase)%2])
	}
}

func switchDurability(phase int) func(*tiermem.Manager, int) error {
	return func(m *tiermem.Manager, i int) error {
		return m.SetDurability([]tiermem.Durability{tiermem.EverySecond, tiermem.Always}[(i+phase)%2])
	}
}

// TestConcurrentSetTierPolicy: two SetTierPolicy calls at once (two
// CONFIG SET tiermem-*-policy from two clients) both return. (A review
// found them deadlocked: each entered the gate, then took a mutex, and the
// one holding it waited in gate.QuiesceInside for the other, inside the
// gate and waiting for the mutex.)
func TestConcurrentSetTierPolicy(t *testing.T) {
	settingsAtOnce(t, 2000, 50, switchWarmPolicy(0), switchWarmPolicy(1))
}

// TestConcurrentSetDurability: the same with SetDurability.
func TestConcurrentSetDurability(t *testing.T) {
	settingsAtOnce(t, 200, 50, switchDurability(0), switchDurability(1))
}

// TestSetTierPolicyAndSetDurabilityTogether: the two settings from two
// clients at once.
func TestSetTierPolicyAndSetDurabilityTogether(t *testing.T) {
	settingsAtOnce(t, 200, 200, switchWarmPolicy(0), switchDurability(0))
}

// TestCloseWhileSettingsChange closes a Manager while goroutines store
// and others switch its durability and the warm tier's policy: Close
// returns nil, every switch returns nil or ErrClosed, and the reopened
// Manager holds every value whose Store returned nil.
func TestCloseWhileSettingsChange(t *testing.T) {
	dir := t.TempDir()
	o := tiermem.Options{MigrateInterval: time.Millisecond, Hot: tiermem.TierOptions{Size: 32 << 10},
		Warm: tiermem.TierOptions{Size: 64 << 10}, Cold: tiermem.TierOptions{Size: 64 << 20}}
	m, err := tiermem.Open(dir, &o)
	must(t, err)
	acked := make([]map[string]int, 3)
	var wg sync.WaitGroup
	for w := range acked {
		acked[w] = map[string]int{}
		wg.Go(func() {
			for i := 0; ; i++ {
				k := fmt.Sprintf("w%d-%d", w, i%50)
				if err := m.Store(k, bytes.Repeat([]byte{byte(i)}, 300+i%700)); err != nil {
					if !errors.Is(err, tiermem.ErrClosed) {
						t.Error(err)
					}
					return
				}
				acked[w][k] = i
			}
		})
	}
	for _, loop := range []func(*tiermem.Manager, int) error{switchWarmPolicy(0), switchDurability(0)} {
		wg.Go(func() {
			for i := 0; ; i++ {
				if err := loop(m, i); err != nil {
					if !errors.Is(err, tiermem.ErrClosed) {
						t.Error(err)
					}
					return
				}
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- m.Close() }()
	select {
	case err := <-closed:
		must(t, err)
	case <-time.After(time.Minute):
		t.Fatal("Close has not returned in a minute while settings changed")
	}
	wg.Wait()
	m, err = tiermem.Open(dir, &o)
	must(t, err)
	defer m.Close()
	for _, kv := range acked {
		for k, i := range kv {
			if got, err := m.Retrieve(k); err != nil || !bytes.Equal(got, bytes.Repeat([]byte{byte(i)}, 300+i%700)) {
				t.Fatalf("%s after Close and reopen: %d bytes, %v", k, len(got), err)
			}
		}
	}
}
