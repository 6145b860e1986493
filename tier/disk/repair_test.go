package disk_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// damagedStore builds a store whose newest record of "k" (overwritten)
// and of "gone" (deleted) are damaged by damage, with the hint files
// removed, and returns its directory.
func damagedStore(t *testing.T, damage func(t *testing.T, k, gone disk.Location)) string {
	t.Helper()
	dir := t.TempDir()
	s := openStore(t, dir, testOpts)
	mustPut(t, s, "k", []byte("old value"), nil)
	mustPut(t, s, "gone", []byte("deleted value"), nil)
	fill(t, s, 5)
	mustPut(t, s, "k", []byte("new value"), nil)
	if _, err := s.Delete("gone"); err != nil {
		t.Fatal(err)
	}
	fill(t, s, 3)
	k, gone := locate(t, s, "k"), locate(t, s, "gone")
	s.Close()
	for _, h := range mustGlob(t, filepath.Join(dir, "*.hint")) {
		os.Remove(h)
	}
	damage(t, k, gone)
	return dir
}

var testOpts = &disk.Options{Compression: disk.NoCompression, CompactThreshold: -1}

func mustRepair(t *testing.T, dir string, opts *disk.RepairOptions) disk.RepairReport {
	t.Helper()
	r, err := disk.Repair(dir, opts)
	if err != nil {
		t.Fatalf("Repair: %v", err)
	}
	return r
}

// wantNotFound fails unless key reads as not found.
func wantNotFound(t *testing.T, s *disk.Store, key string) {
	t.Helper()
	if v, err := s.Get(key, nil); !errors.Is(err, tier.ErrNotFound) {
		t.Fatalf("Get(%q) = %q, %v; want ErrNotFound", key, v, err)
	}
}

func TestRepairTombstonesDamagedKeys(t *testing.T) {
	dir := damagedStore(t, func(t *testing.T, k, gone disk.Location) {
		flipByte(t, k.File, k.ValueOff+1)  // value: k's newest record is ErrCorrupt
		flipByte(t, gone.File, gone.Off+9) // key length: many bits, the head cannot be corrected
	})
	if _, err := disk.Open(dir, testOpts); !errors.Is(err, tier.ErrCorrupt) {
		t.Fatalf("Open before Repair = %v, want ErrCorrupt", err)
	}
	dry := mustRepair(t, dir, &disk.RepairOptions{DryRun: true})
	if _, err := disk.Open(dir, testOpts); !errors.Is(err, tier.ErrCorrupt) {
		t.Fatalf("a dry run changed the store: Open = %v", err)
	}
	r := mustRepair(t, dir, nil)
	r.DryRun = dry.DryRun
	if !slices.Equal(r.LostKeys, dry.LostKeys) || len(r.Damage) != len(dry.Damage) || !slices.Equal(r.Rewritten, dry.Rewritten) {
		t.Fatalf("the dry run reported %+v, the repair %+v", dry, r)
	}
	if !slices.Equal(r.LostKeys, []string{"k"}) || len(r.Damage) != 2 || !r.Unreadable() || len(r.Rewritten) != 1 {
		t.Fatalf("report %+v", r)
	}
	s := openStore(t, dir, testOpts)
	wantNotFound(t, s, "k")
	checkAll(t, s, []string{"k0", "k1", "k2", "k3", "k4"})
	s.Close()
	if again := mustRepair(t, dir, nil); !again.Clean() || len(again.Rewritten) != 0 {
		t.Fatalf("a second Repair found %+v", again)
	}
}

// TestRepairRestoresOneFlippedBit: a single flipped bit in a head is found
// and corrected, so nothing is lost, and the delete stays a delete.
func TestRepairRestoresOneFlippedBit(t *testing.T) {
	dir := damagedStore(t, func(t *testing.T, k, gone disk.Location) {
		flipBit(t, k.File, k.Off+20, 3)      // k's sequence number
		flipBit(t, gone.File, gone.Off+4, 1) // the tombstone's kind
	})
	r := mustRepair(t, dir, nil)
	if len(r.LostKeys) != 0 || r.Unreadable() || len(r.Damage) != 2 || !r.Damage[0].Restored || !r.Damage[1].Restored {
		t.Fatalf("report %+v", r)
	}
	s := openStore(t, dir, testOpts)
	mustGet(t, s, "k", []byte("new value"))
	wantNotFound(t, s, "gone")
}

// TestRepairWholeHeaderDamaged: when a record's head is beyond repair its
// key cannot be known, so the older value comes back; the report must say
// that plainly.
func TestRepairUnreadableRegion(t *testing.T) {
	dir := damagedStore(t, func(t *testing.T, k, gone disk.Location) {
		for i := range int64(disk.RecordHeaderSize) {
			flipByte(t, gone.File, gone.Off+i)
		}
	})
	r := mustRepair(t, dir, nil)
	if !r.Unreadable() || len(r.LostKeys) != 0 || r.BytesDropped() == 0 {
		t.Fatalf("report %+v", r)
	}
	s := openStore(t, dir, testOpts)
	mustGet(t, s, "k", []byte("new value"))
}

func TestRepairBadSegmentHeader(t *testing.T) {
	dir := damagedStore(t, func(t *testing.T, k, gone disk.Location) {
		flipByte(t, k.File, 3)
	})
	if _, err := disk.Open(dir, testOpts); !errors.Is(err, tier.ErrCorrupt) {
		t.Fatalf("Open = %v, want ErrCorrupt", err)
	}
	r := mustRepair(t, dir, nil)
	if r.Unreadable() || len(r.LostKeys) != 0 || len(r.Damage) != 1 {
		t.Fatalf("report %+v", r)
	}
	s := openStore(t, dir, testOpts)
	mustGet(t, s, "k", []byte("new value"))
	wantNotFound(t, s, "gone")
	mustPut(t, s, "after", []byte("repair"), nil)
	s.Close()
	s = openStore(t, dir, testOpts)
	mustGet(t, s, "after", []byte("repair"))
}

func TestRepairRefusesAnOpenStore(t *testing.T) {
	dir := t.TempDir()
	openStore(t, dir, nil)
	if _, err := disk.Repair(dir, nil); !errors.Is(err, disk.ErrLocked) {
		t.Fatalf("Repair of an open store = %v, want ErrLocked", err)
	}
}

// TestRepairInterrupted leaves what an interrupted rewrite leaves: the
// hint gone and a temporary file beside the damaged segment. Open still
// refuses, and Repair then finishes.
func TestRepairInterrupted(t *testing.T) {
	dir := damagedStore(t, func(t *testing.T, k, gone disk.Location) {
		flipByte(t, gone.File, gone.Off+9)
		os.WriteFile(k.File+".tmp", []byte("half a rewrite"), 0o644)
	})
	if _, err := disk.Open(dir, testOpts); !errors.Is(err, tier.ErrCorrupt) {
		t.Fatalf("Open = %v, want ErrCorrupt", err)
	}
	mustRepair(t, dir, nil)
	if tmps := mustGlob(t, filepath.Join(dir, "*.tmp")); len(tmps) != 0 {
		t.Fatalf("left %v", tmps)
	}
	s := openStore(t, dir, testOpts)
	mustGet(t, s, "k", []byte("new value"))
}
