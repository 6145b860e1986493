package tiermem_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tiermem/tiermem"
)

// TestSnapshotRefusesItsOwnStores: a snapshot path inside the Manager's
// own cold or glacier directory (a segment's name, the lock, a new file
// there, through a symbolic link too) is ErrOptions, and every key still
// reads after the Manager is opened again.
func TestSnapshotRefusesItsOwnStores(t *testing.T) {
	dir := t.TempDir()
	m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1})
	must(t, err)
	must(t, m.Store("k", []byte("v"), tiermem.InTier(tiermem.Cold)))
	link := filepath.Join(t.TempDir(), "link")
	must(t, os.Symlink(filepath.Join(dir, "cold"), link))
	segs, _ := filepath.Glob(filepath.Join(dir, "cold", "*"))
	paths := append(segs, filepath.Join(dir, "cold", "new.snap"), filepath.Join(dir, "glacier", "x.snap"), filepath.Join(link, "y.snap"))
	for _, p := range paths {
		if _, err := m.Snapshot(p, nil); !errors.Is(err, tiermem.ErrOptions) {
			t.Errorf("Snapshot(%s) = %v, want ErrOptions", p, err)
		}
	}
	if _, err := m.Snapshot(filepath.Join(dir, "beside.snap"), nil); err != nil {
		t.Errorf("a snapshot beside the stores: %v", err)
	}
	must(t, m.Close())
	m, err = tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1})
	must(t, err)
	defer m.Close()
	if v, err := m.Retrieve("k"); err != nil || string(v) != "v" {
		t.Errorf("k after the refused snapshots: %q, %v", v, err)
	}
}
