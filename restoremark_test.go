package tiermem_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/tiermem/tiermem"
)

// restoreMarked reports whether dir holds the mark of a restore that has
// not finished.
func restoreMarked(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "RESTORING"))
	return err == nil
}

// TestRestoreMarksTheDirectoryUntilDurable: a Restore marks the directory
// until what it restored is durable (at Close with Durability None, when it
// returns with Always); one that stops half way (no room) leaves the mark,
// and Open refuses the directory with ErrRestoreIncomplete until a Restore
// finishes, opening it only with OpenIncompleteRestore.
func TestRestoreMarksTheDirectoryUntilDurable(t *testing.T) {
	src := open(t, &tiermem.Options{Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1})
	value := make([]byte, 16<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		for j := range value { // incompressible: the tiers hold all of it
			value[j] = byte(rng.Uint32())
		}
		value[0] = byte(i)
		must(t, src.Store(fmt.Sprint("k", i), value, tiermem.InTier(tiermem.Cold)))
	}
	path := filepath.Join(t.TempDir(), "s.snapshot")
	if _, err := src.Snapshot(path, nil); err != nil {
		t.Fatal(err)
	}
	roomy := func(d tiermem.Durability) *tiermem.Options {
		return &tiermem.Options{Durability: d, Cold: tiermem.TierOptions{Size: 64 << 20},
			Glacier: tiermem.GlacierOptions{Disabled: true}, MigrateInterval: -1}
	}
	for _, d := range []tiermem.Durability{tiermem.None, tiermem.Always} {
		dir := t.TempDir()
		m, err := tiermem.Open(dir, roomy(d))
		must(t, err)
		if _, err := m.Restore(path, nil); err != nil {
			t.Fatal(err)
		}
		if restoreMarked(dir) != (d == tiermem.None) {
			t.Errorf("Durability %v: marked %v once Restore returned, want %v (the values durable only at Close)", d, restoreMarked(dir), d == tiermem.None)
		}
		must(t, m.Close())
		if restoreMarked(dir) {
			t.Errorf("Durability %v: still marked after Close", d)
		}
		m, err = tiermem.Open(dir, roomy(d))
		must(t, err)
		must(t, m.Close())
	}

	dir := t.TempDir()
	cramped := &tiermem.Options{Hot: tiermem.TierOptions{Size: 256 << 10}, Warm: tiermem.TierOptions{Size: 256 << 10},
		Cold: tiermem.TierOptions{Size: 1 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true}, MigrateInterval: -1}
	m, err := tiermem.Open(dir, cramped)
	must(t, err)
	must(t, m.Store("old", []byte("kept until the restore")))
	empty := filepath.Join(t.TempDir(), "empty.snapshot")
	if _, err := m.Snapshot(empty, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Restore(empty, &tiermem.RestoreOptions{Mode: tiermem.RestoreMerge}); err != nil { // finishes: Close would unmark
		t.Fatal(err)
	}
	_, err = m.Restore(path, nil)
	if !errors.Is(err, tiermem.ErrNoSpace) || !errors.Is(err, tiermem.ErrRestoreIncomplete) {
		t.Fatalf("Restore of 3 MiB into 1.5 MiB = %v, want ErrNoSpace and ErrRestoreIncomplete", err)
	}
	must(t, m.Close())
	if _, err := tiermem.Open(dir, roomy(tiermem.None)); !errors.Is(err, tiermem.ErrRestoreIncomplete) {
		t.Fatalf("Open after a restore stopped half way = %v, want ErrRestoreIncomplete", err)
	}
	o := roomy(tiermem.None)
	o.OpenIncompleteRestore = true
	m, err = tiermem.Open(dir, o)
	must(t, err)
	if _, err := m.Restore(path, nil); err != nil {
		t.Fatal(err)
	}
	must(t, m.Close())
	m, err = tiermem.Open(dir, roomy(tiermem.None))
	must(t, err)
	defer m.Close()
	if got, err := m.Retrieve("k199"); err != nil || got[0] != 199 {
		t.Errorf("k199 after the second restore: %v", err)
	}
}
