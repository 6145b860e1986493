package tiermem_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/tiermem/tiermem"
)

// TestHostileIncompleteRestoreMarkSurvivesReopen: a Restore that stopped
// half way keeps the directory marked until a Restore that runs alone
// restores its snapshot again, or replaces everything, across a Close and
// an Open with OpenIncompleteRestore (as the ErrRestoreIncomplete message
// tells the user to) as within one Manager: a RestoreMerge of another
// snapshot then leaves the mark, and the directory, still holding the first
// snapshot's partial keys, does not open as sound.
func TestHostileIncompleteRestoreMarkSurvivesReopen(t *testing.T) {
	src := open(t, &tiermem.Options{Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1})
	value := make([]byte, 16<<10)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 200 {
		for j := range value { // incompressible
			value[j] = byte(rng.Uint32())
		}
		must(t, src.Store(fmt.Sprint("k", i), value, tiermem.InTier(tiermem.Cold)))
	}
	big := filepath.Join(t.TempDir(), "big.snapshot")
	if _, err := src.Snapshot(big, nil); err != nil {
		t.Fatal(err)
	}
	other := open(t, nil)
	must(t, other.Store("other", []byte("the other snapshot's key")))
	small := filepath.Join(t.TempDir(), "small.snapshot")
	if _, err := other.Snapshot(small, nil); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	cramped := func(incomplete bool) *tiermem.Options {
		return &tiermem.Options{Hot: tiermem.TierOptions{Size: 256 << 10}, Warm: tiermem.TierOptions{Size: 256 << 10},
			Cold: tiermem.TierOptions{Size: 1 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true}, MigrateInterval: -1,
			Durability: tiermem.Always, OpenIncompleteRestore: incomplete}
	}
	m, err := tiermem.Open(dir, cramped(false))
	must(t, err)
	if _, err := m.Restore(big, nil); !errors.Is(err, tiermem.ErrRestoreIncomplete) {
		t.Fatalf("Restore of 3 MiB into 1.5 MiB = %v, want ErrRestoreIncomplete", err)
	}
	must(t, m.Close())

	m, err = tiermem.Open(dir, cramped(true))
	must(t, err)
	if _, err := m.Restore(small, &tiermem.RestoreOptions{Mode: tiermem.RestoreMerge}); err != nil {
		t.Fatal(err)
	}
	partial := 0
	for i := range 200 {
		if _, err := m.Tier(fmt.Sprint("k", i)); err == nil {
			partial++
		}
	}
	if partial == 0 || partial == 200 {
		t.Fatalf("%d of 200 keys of the restore that stopped half way: this test proves nothing", partial)
	}
	must(t, m.Close())
	m, err = tiermem.Open(dir, cramped(false))
	if err == nil {
		m.Close()
	}
	if !errors.Is(err, tiermem.ErrRestoreIncomplete) {
		t.Fatalf("Open of a directory holding part of %s, after a RestoreMerge of another snapshot = %v, want ErrRestoreIncomplete",
			filepath.Base(big), err)
	}
}
