package tiermem_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"github.com/tiermem/tiermem"
)

// TestSnapshotHostileRestoreTooLargeForTheLogChangesNothing: Restore promises
// that "a value too large for every tier from its own down (smaller
// budgets than the snapshot's Manager had) is ErrTooLarge; the Manager then
// holds exactly what it held" — checked before the replace clears
// anything. With a durable Manager every hot or warm value is written
// through to the cold log too, so a value that fits hot but not cold's
// budget cannot be stored (Store says ErrTooLarge). Restore must find that
// in its check, not after it cleared the Manager.
func TestSnapshotHostileRestoreTooLargeForTheLogChangesNothing(t *testing.T) {
	src := open(t, &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 8 << 20}, Warm: tiermem.TierOptions{Size: 8 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1,
	})
	big := bytes.Repeat([]byte("b"), 2<<20)
	must(t, src.Store("big", big, tiermem.InTier(tiermem.Hot)))
	path := filepath.Join(t.TempDir(), "s")
	_, err := src.Snapshot(path, nil)
	must(t, err)

	for _, glacier := range []bool{false, true} {
		name := "no glacier"
		if glacier {
			name = "glacier"
		}
		t.Run(name, func(t *testing.T) {
			o := &tiermem.Options{
				Hot: tiermem.TierOptions{Size: 8 << 20}, Warm: tiermem.TierOptions{Size: 8 << 20},
				Cold: tiermem.TierOptions{Size: 1 << 20}, MigrateInterval: -1, Durability: tiermem.Always,
			}
			if !glacier {
				o.Glacier.Disabled = true
			}
			m := open(t, o)
			must(t, m.Store("mine", []byte("kept")))
			if err := m.Store("probe", big, tiermem.InTier(tiermem.Hot)); !errors.Is(err, tiermem.ErrTooLarge) {
				t.Fatalf("Store of the value in this Manager = %v; the test expects ErrTooLarge", err)
			}
			_, err := m.Restore(path, nil)
			if err == nil {
				if v, err := m.Retrieve("big"); err != nil || !bytes.Equal(v, big) {
					t.Fatalf("Restore succeeded but big reads %d bytes, %v", len(v), err)
				}
				return // it found a way: fine
			}
			if v, err2 := m.Retrieve("mine"); err2 != nil || string(v) != "kept" {
				t.Fatalf("Restore failed (%v) after clearing the Manager: mine reads %q, %v; want the Manager as it was", err, v, err2)
			}
			if !errors.Is(err, tiermem.ErrTooLarge) {
				t.Errorf("Restore = %v; want ErrTooLarge", err)
			}
		})
	}
}
