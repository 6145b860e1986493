package tiermem_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

func TestReadCountAndDurability(t *testing.T) {
	m := open(t, nil)
	if _, err := m.ReadCount("nokey"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Fatalf("ReadCount of no key: %v", err)
	}
	must(t, m.Store("k", []byte("v"), tiermem.InTier(tiermem.Cold)))
	for range 3 {
		_, err := m.Retrieve("k")
		must(t, err)
	}
	if n, err := m.ReadCount("k"); err != nil || n < 3 {
		t.Fatalf("ReadCount after 3 reads: %d, %v", n, err)
	}
	if n := m.Expiring(); n != 0 {
		t.Fatalf("Expiring %d with no TTL set", n)
	}
	must(t, m.Store("t", []byte("v"), tiermem.WithTTL(time.Hour)))
	must(t, m.Rename("t", "t2", false))
	if n := m.Expiring(); n != 1 {
		t.Fatalf("Expiring %d after a key with a TTL was renamed, want 1", n)
	}
	if _, err := m.Persist("t2"); err != nil {
		t.Fatal(err)
	}
	if n := m.Expiring(); n != 0 {
		t.Fatalf("Expiring %d after PERSIST, want 0", n)
	}
	if d := m.Durability(); d != tiermem.None {
		t.Fatalf("Durability %v, want None", d)
	}
}

func TestTierPolicy(t *testing.T) {
	o := tiermem.Options{Hot: tiermem.TierOptions{Size: 1 << 20, Policy: tiermem.PolicyLRU}, Warm: tiermem.TierOptions{Size: 1 << 20},
		Cold: tiermem.TierOptions{Size: 16 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true}, MigrateInterval: -1}
	m := open(t, &o)
	for tr, want := range map[tiermem.Tier]string{tiermem.Hot: "lru", tiermem.Warm: "auto", tiermem.Cold: "auto"} {
		if p, err := m.TierPolicy(tr); err != nil || p.String() != want {
			t.Errorf("TierPolicy(%v) = %v, %v; want %s", tr, p, err, want)
		}
	}
	if _, err := m.TierPolicy(tiermem.Glacier); !errors.Is(err, tiermem.ErrUnknownTier) {
		t.Errorf("TierPolicy(glacier) with no glacier: %v", err)
	}
	if s := tiermem.Policy(99).String(); s != "Policy(99)" {
		t.Errorf("an unknown policy prints %q", s)
	}
}
