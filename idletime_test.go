package tiermem_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestIdleTime: a hot key's idle time grows with the clock and restarts at
// a read; a warm key under CLOCK has none (ErrNoIdleTime), under LRU it
// has one; a missing or expired key is ErrNotFound.
func TestIdleTime(t *testing.T) {
	clock := tiermem.NewFakeClock()
	o := &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 4 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}}
	tiermem.SetClock(o, clock)
	m := open(t, o)
	must(t, m.Store("h", []byte("v"), tiermem.InTier(tiermem.Hot)))
	must(t, m.Store("w", []byte("v"), tiermem.InTier(tiermem.Warm)))
	must(t, m.Store("ttl", []byte("v"), tiermem.InTier(tiermem.Hot), tiermem.WithTTL(time.Minute)))
	clock.Advance(90 * time.Second)
	if d, err := m.IdleTime("h"); err != nil || d != 90*time.Second {
		t.Fatalf("IdleTime(h) 90 s after its Store = %v, %v", d, err)
	}
	if _, err := m.Retrieve("h"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(5 * time.Second)
	if d, err := m.IdleTime("h"); err != nil || d != 5*time.Second {
		t.Fatalf("IdleTime(h) 5 s after a read = %v, %v", d, err)
	}
	if _, err := m.IdleTime("w"); !errors.Is(err, tiermem.ErrNoIdleTime) {
		t.Fatalf("IdleTime of a warm key under CLOCK = %v, want ErrNoIdleTime", err)
	}
	must(t, m.SetTierPolicy(tiermem.Warm, tiermem.PolicyLRU))
	clock.Advance(time.Second)
	if d, err := m.IdleTime("w"); err != nil || d < time.Second {
		t.Fatalf("IdleTime of a warm key under LRU = %v, %v", d, err)
	}
	for _, key := range []string{"absent", "ttl"} {
		if _, err := m.IdleTime(key); !errors.Is(err, tiermem.ErrNotFound) {
			t.Errorf("IdleTime(%q) = %v, want ErrNotFound", key, err)
		}
	}
	must(t, m.Close())
	if _, err := m.IdleTime("h"); !errors.Is(err, tiermem.ErrClosed) {
		t.Errorf("IdleTime after Close = %v, want ErrClosed", err)
	}
}
