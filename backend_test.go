package tiermem_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
	"github.com/tiermem/tiermem/tier/heap"
)

// withoutBits is a store that keeps no reference bits: it hides every
// method but tier.Store's.
type withoutBits struct{ tier.Store }

// TestConstructedBackends runs a Manager whose warm and cold tiers are
// stores the caller built: values go through them, a warm store without
// reference bits gets the Adaptive policy, and Close closes them.
func TestConstructedBackends(t *testing.T) {
	dir := t.TempDir()
	warm := withoutBits{heap.New()}
	cold, err := disk.Open(filepath.Join(dir, "mycold"), nil)
	must(t, err)
	o := tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 64 << 10},
		Warm: tiermem.TierOptions{Size: 64 << 10, Store: warm}, Cold: tiermem.TierOptions{Size: 1 << 30, Store: cold}}
	m, err := tiermem.Open(dir, &o)
	must(t, err)
	for i := range 40 { // 40 × 10 KB: through hot and warm into cold
		must(t, m.Store(fmt.Sprint("k", i), make([]byte, 10_000), tiermem.InTier(tiermem.Hot)))
	}
	if warm.Len() == 0 || cold.Len() == 0 {
		t.Fatalf("the constructed stores hold %d and %d keys, want some in each", warm.Len(), cold.Len())
	}
	must(t, m.Close())
	if _, err := warm.Meta("k0"); !errors.Is(err, tier.ErrClosed) {
		t.Errorf("the warm store after Close: %v, want it closed", err)
	}
	cold, err = disk.Open(filepath.Join(dir, "mycold"), nil)
	must(t, err)
	defer cold.Close()
	if n := cold.Len(); n != 40 {
		t.Errorf("the constructed cold store holds %d keys after Close, want all 40", n)
	}
}

// TestConstructedBackendsThatCannotWork: Open refuses options that cannot
// work with the stores handed over, and closes those stores (a disk store
// left open would keep its directory locked).
func TestConstructedBackendsThatCannotWork(t *testing.T) {
	shared := heap.New()
	for name, c := range map[string]struct {
		o     tiermem.Options
		given []tier.Store
	}{
		"cold store that forgets": {o: tiermem.Options{Cold: tiermem.TierOptions{Store: heap.New()}}},
		"clock without bits":      {o: tiermem.Options{Warm: tiermem.TierOptions{Store: withoutBits{heap.New()}, Policy: tiermem.PolicyClock}}},
		"durability not ours":     {o: tiermem.Options{Durability: tiermem.Always, Cold: tiermem.TierOptions{Store: mustDisk(t)}}},
		"one store for two tiers": {o: tiermem.Options{Hot: tiermem.TierOptions{Store: shared}, Warm: tiermem.TierOptions{Store: shared}}},
		"compression not ours":    {o: tiermem.Options{Warm: tiermem.TierOptions{Store: heap.New(), Compress: true}}},
	} {
		if _, err := tiermem.Open(t.TempDir(), &c.o); !errors.Is(err, tiermem.ErrOptions) {
			t.Errorf("%s: Open = %v, want ErrOptions", name, err)
		}
		for _, s := range []tier.Store{c.o.Hot.Store, c.o.Warm.Store, c.o.Cold.Store} {
			if s == nil {
				continue
			}
			if _, err := s.Put("k", nil, nil); !errors.Is(err, tier.ErrClosed) {
				t.Errorf("%s: a store handed to the failed Open still takes Puts (%v)", name, err)
			}
		}
	}
}

func mustDisk(t *testing.T) *disk.Store {
	s, err := disk.Open(t.TempDir(), nil)
	must(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}
