package tiermem_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/tiermem/tiermem"
)

// TestSnapshotHostileMergeIntoItselfKeepsTiers: Restore puts each key back "in
// the tier it was in ... when that tier has room without demoting
// anything, else in the next tier down (counted in the report's Demoted)".
// Merging a snapshot back into the very Manager it was taken of, unchanged
// since, replaces every key by the same value in the same place: that
// needs no room at all, so no key may go down a tier, and none may be
// reported demoted.
func TestSnapshotHostileMergeIntoItselfKeepsTiers(t *testing.T) {
	m := open(t, nil) // hot: 1 MiB
	for i := range 6 {
		must(t, m.Store(fmt.Sprint("h", i), bytes.Repeat([]byte{byte(i)}, 150<<10), tiermem.InTier(tiermem.Hot)))
	}
	for i := range 6 {
		if tr := tierOf(t, m, fmt.Sprint("h", i)); tr != tiermem.Hot {
			t.Fatalf("h%d in %s before the snapshot", i, tr)
		}
	}
	path := filepath.Join(t.TempDir(), "s")
	_, err := m.Snapshot(path, nil)
	must(t, err)
	r, err := m.Restore(path, &tiermem.RestoreOptions{Mode: tiermem.RestoreMerge})
	must(t, err)
	var moved []string
	for i := range 6 {
		if tr := tierOf(t, m, fmt.Sprint("h", i)); tr != tiermem.Hot {
			moved = append(moved, fmt.Sprintf("h%d to %s", i, tr))
		}
	}
	if len(moved) > 0 || r.DemotedKeys() != 0 {
		t.Errorf("merging a snapshot into the unchanged Manager it was taken of moved %v; report: %d demoted", moved, r.DemotedKeys())
	}
}
