package tiermem_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tiermem/tiermem"
)

// FuzzOpenSnapshot feeds arbitrary files to OpenSnapshot, Lookup, Verify
// and Restore, as a damaged disk or a hostile file would: nothing panics,
// every refusal wraps a snapshot sentinel, and a file that verifies
// restores whole, every key readable with the value Lookup found. The seed
// corpus (testdata/fuzz/FuzzOpenSnapshot) holds a snapshot of every tier.
func FuzzOpenSnapshot(f *testing.F) {
	m, err := tiermem.Open(f.TempDir(), &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1,
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { m.Close() })
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "fuzz.snapshot")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := tiermem.OpenSnapshot(path)
		if err != nil {
			if !errors.Is(err, tiermem.ErrSnapshotCorrupt) && !errors.Is(err, tiermem.ErrSnapshotVersion) {
				t.Fatalf("OpenSnapshot: %v, not a snapshot sentinel", err)
			}
			return
		}
		defer s.Close()
		lookedUp, lookErr := s.Lookup("k")
		value := string(lookedUp.Value)
		if err := s.Verify(); err != nil {
			if !errors.Is(err, tiermem.ErrSnapshotCorrupt) {
				t.Fatalf("Verify: %v, not ErrSnapshotCorrupt", err)
			}
			return
		}
		r, err := m.Restore(path, nil)
		if err != nil {
			t.Fatalf("a verified snapshot does not restore: %v", err)
		}
		if r.Keys+r.Expired != s.Info().Keys {
			t.Fatalf("restored %d and left out %d of %d keys", r.Keys, r.Expired, s.Info().Keys)
		}
		if lookErr == nil {
			if got, err := m.Retrieve("k"); err != nil && !errors.Is(err, tiermem.ErrNotFound) || err == nil && string(got) != value {
				t.Fatalf("k restored as %q, %v; Lookup found %q", got, err, value)
			}
		}
	})
}
