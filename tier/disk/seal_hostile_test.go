package disk_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// TestHostileSealedTailReopened: a clean Close seals the tail segment's
// header with its record count, and the next Open appends to that segment
// again. The seal must go first, durably: after appends and a crash (no
// Close, no hint file), Open must read every key, old and new, instead of
// taking the appended records for damage.
func TestHostileSealedTailReopened(t *testing.T) {
	dir := t.TempDir()
	opts := &disk.Options{SegmentSize: 1 << 20, Sync: disk.SyncNone}
	s := openStore(t, dir, opts)
	before := fill(t, s, 5)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, opts)
	if got := locate(t, s, before[0]).SegmentID; got != locate(t, s, before[4]).SegmentID {
		t.Fatalf("the layout changed: keys in segments %d and more", got)
	}
	mustPut(t, s, "after", valueOf("after", 0), nil)
	if locate(t, s, "after").SegmentID != locate(t, s, before[0]).SegmentID {
		t.Fatal("the reopened tail took no append: this test proves nothing")
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	s.Crash()
	s = openStore(t, dir, opts)
	defer s.Close()
	checkAll(t, s, append(before, "after"))
}

// TestHostileSealedCompactedSegmentCut: a segment written by compaction is
// sealed too, before it gets its name. Cut on a record boundary with its
// hint file gone, it must make Open fail with ErrCorrupt: before the seal,
// Open dropped its last records silently.
func TestHostileSealedCompactedSegmentCut(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, hostileOpts)
	for i := range 6 {
		mustPut(t, s, fmt.Sprint("k", i), bytes.Repeat([]byte{byte('a' + i)}, 1500), nil)
	}
	for i := range 3 {
		if _, err := s.Delete(fmt.Sprint("k", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	loc := locate(t, s, "k5")
	if !loc.Compacted {
		t.Fatal("k5 is not in a compacted segment: the layout changed")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(loc.File, loc.Off); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(strings.TrimSuffix(loc.File, ".seg") + ".hint"); err != nil {
		t.Fatal(err)
	}
	s, err := disk.Open(dir, hostileOpts)
	if err == nil {
		s.Close()
	}
	if !errors.Is(err, tier.ErrCorrupt) {
		t.Fatalf("Open after the compacted %s lost its last record: %v, want ErrCorrupt", filepath.Base(loc.File), err)
	}
}

// TestHostileRepairSealedSegmentCut: Repair of a sealed segment cut on a
// record boundary (hint gone) reports the cut as damage in which newer
// records may have been (Unreadable), rewrites the segment sealed with
// what is left, and the store opens again with the intact keys.
func TestHostileRepairSealedSegmentCut(t *testing.T) {
	dir, seg2, cut := buildOverwrittenInMiddle(t)
	if err := os.Truncate(seg2, cut); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(strings.TrimSuffix(seg2, ".seg") + ".hint"); err != nil {
		t.Fatal(err)
	}
	rep, err := disk.Repair(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Unreadable() || len(rep.Damage) != 1 || rep.Damage[0].File != filepath.Base(seg2) ||
		!strings.Contains(rep.Damage[0].Reason, "cut") {
		t.Fatalf("Repair reported %+v, want one unreadable cut in %s", rep.Damage, filepath.Base(seg2))
	}
	s := openStore(t, dir, hostileOpts)
	defer s.Close()
	if v, err := s.Get("pad4", nil); err != nil || string(v) != "in the newest segment" {
		t.Fatalf("pad4 after Repair: %q, %v", v, err)
	}
}
