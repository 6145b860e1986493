package disk_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/internal/vfs"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
	"github.com/zeebo/xxh3"
)

// rewriteAsFormat1 rewrites the header of every segment in dir as format 1
// wrote it: version 1, no seal, no record count.
func rewriteAsFormat1(t *testing.T, dir string) {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil || len(segs) == 0 {
		t.Fatalf("no segments: %v", err)
	}
	for _, name := range segs {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		binary.LittleEndian.PutUint16(b[8:], 1)
		b[12] &^= 2
		binary.LittleEndian.PutUint32(b[24:], 0)
		binary.LittleEndian.PutUint32(b[28:], uint32(xxh3.Hash(b[:28])))
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkRepairSalvagesCut runs Open, which must refuse dir (a segment that
// is not the newest was cut, as its hint tells), then Repair, which must
// report the cut as unreadable damage and leave a store that opens.
func checkRepairSalvagesCut(t *testing.T, dir, cutFile string) (*disk.Store, disk.RepairReport) {
	t.Helper()
	if s, err := disk.Open(dir, hostileOpts); !errors.Is(err, tier.ErrCorrupt) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("Open after %s was cut: %v, want ErrCorrupt", filepath.Base(cutFile), err)
	}
	rep, err := disk.Repair(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := disk.Repair(dir, nil); err != nil || !again.Clean() {
		t.Errorf("a second Repair: %+v, %v; want clean", again.Damage, err)
	}
	s, err := disk.Open(dir, hostileOpts)
	if err != nil {
		t.Fatalf("Repair returned no error and reported %+v (clean: %v), and Open still fails: %v", rep.Damage, rep.Clean(), err)
	}
	t.Cleanup(func() { s.Close() })
	if !rep.Unreadable() || !strings.Contains(fmt.Sprint(rep.Damage), "its end was cut") {
		t.Fatalf("Repair reported %+v: no unreadable damage naming the cut", rep.Damage)
	}
	return s, rep
}

// TestHostileRepairFindsTheCutItsHintTells: a format 1 segment (never
// sealed) that is not the newest, cut on a record boundary with its hint
// file kept, is refused by Open (the hint names a larger size), which says
// to run Repair. Repair must find the same cut from the same hint, report
// it as unreadable damage (the records cut may have held any key's newest
// version) and rewrite the segment, so that Open then succeeds: "After it
// returns without error, Open succeeds".
func TestHostileRepairFindsTheCutItsHintTells(t *testing.T) {
	dir, seg2, cut := buildOverwrittenInMiddle(t)
	rewriteAsFormat1(t, dir)
	s := openStore(t, dir, hostileOpts) // the upgraded store opens, and closes clean
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(seg2, cut); err != nil {
		t.Fatal(err)
	}
	s, _ = checkRepairSalvagesCut(t, dir, seg2)
	if _, err := s.Get("pad2", nil); err != nil {
		t.Errorf("pad2, before the cut, reads %v", err)
	}
}

// renameFails is the OS file system whose renames fail: a Repair that
// stops before a rewrite takes its segment's name.
type renameFails struct{ vfs.FS }

func (renameFails) Rename(oldname, newname string) error {
	return errors.New("injected: rename failed")
}

// TestHostileInterruptedRepairKeepsTheCutsEvidence: the hint file of a
// format 1 segment is the only evidence of the cut it tells. A Repair
// interrupted before its rewrite of the segment takes the segment's name
// must leave that hint in place, so that Open still refuses the store
// (never passing the cut segment for whole), and a second Repair still
// salvages it.
func TestHostileInterruptedRepairKeepsTheCutsEvidence(t *testing.T) {
	dir, seg2, cut := buildOverwrittenInMiddle(t)
	rewriteAsFormat1(t, dir)
	if err := os.Truncate(seg2, cut); err != nil {
		t.Fatal(err)
	}
	if _, err := disk.Repair(dir, &disk.RepairOptions{FS: renameFails{vfs.Default}}); err == nil {
		t.Fatal("Repair succeeded though its renames fail")
	}
	checkRepairSalvagesCut(t, dir, seg2)
}

// TestHostileCutHintLargerThanItsSegmentCouldHold: a hint file is bounded
// by what its segment can hold, but a segment cut short has a hint larger
// than that bound for what is left. Such a hint must still tell the cut
// (to Open, and to Repair), not be dismissed as too large and let a scan
// that ends on a record boundary pass the segment for whole.
func TestHostileCutHintLargerThanItsSegmentCouldHold(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, hostileOpts)
	mustPut(t, s, "first", []byte("in segment 1"), nil)
	for i := range 60 {
		mustPut(t, s, fmt.Sprint("t", i), nil, nil) // heads only: the hint nearly the segment's size
	}
	cutAt := locate(t, s, "t1")
	for i := 0; locate(t, s, "first").SegmentID == cutAt.SegmentID; i++ {
		mustPut(t, s, fmt.Sprint("pad", i), bytes.Repeat([]byte("p"), 1000), nil)
		if locate(t, s, fmt.Sprint("pad", i)).SegmentID != cutAt.SegmentID {
			break // the cut segment is sealed, a newer one is the tail
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rewriteAsFormat1(t, dir)
	hint, err := os.Stat(disk.HintFile(dir, cutAt.SegmentID))
	if err != nil {
		t.Fatal(err)
	}
	if hint.Size() <= cutAt.Off {
		t.Fatalf("the hint is %d bytes, the cut segment %d: the layout changed", hint.Size(), cutAt.Off)
	}
	if err := os.Truncate(cutAt.File, cutAt.Off); err != nil {
		t.Fatal(err)
	}
	s, _ = checkRepairSalvagesCut(t, dir, cutAt.File)
	if _, err := s.Get("t0", nil); err != nil {
		t.Errorf("t0, before the cut, reads %v", err)
	}
}

// TestHostileRepairKeepsAKeyWithAnIntactCopy: a crash after a compaction
// named its output but before it removed its input leaves both, the
// input's records and their byte-for-byte copies (same sequence numbers)
// in the output. A value byte of k then rots in the input copy, which
// Open indexes, and Repair is run. An intact record with the same sequence
// number is the same record: Repair must drop the damaged copy, not write
// a tombstone of that sequence number that hides the intact one, and k
// must read its value and not be reported lost.
func TestHostileRepairKeepsAKeyWithAnIntactCopy(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, hostileOpts)
	kv := bytes.Repeat([]byte("value of k;"), 90)
	mustPut(t, s, "k", kv, nil)
	mustPut(t, s, "dead", bytes.Repeat([]byte("d"), 1000), nil)
	mustPut(t, s, "dead", []byte("overwritten"), nil) // dead bytes in the first segment
	mustPut(t, s, "pad", bytes.Repeat([]byte("p"), 3000), nil)
	loc := locate(t, s, "k")
	if locate(t, s, "pad").SegmentID == loc.SegmentID {
		t.Fatal("k's segment is still the active one: the layout changed")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	input, err := os.ReadFile(loc.File)
	if err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, hostileOpts)
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	if now := locate(t, s, "k"); !now.Compacted || now.File == loc.File {
		t.Fatalf("k is at %+v after Compact: the layout changed", now)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The crash before the input's removal, then one rotten byte in it.
	input[loc.ValueOff+10] ^= 0x20
	if err := os.WriteFile(loc.File, input, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := disk.Repair(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.LostKeys) != 0 || rep.Clean() {
		t.Errorf("Repair reported lost keys %v, damage %+v; want the damage and no key lost", rep.LostKeys, rep.Damage)
	}
	s = openStore(t, dir, hostileOpts)
	defer s.Close()
	if v, err := s.Get("k", nil); err != nil || !bytes.Equal(v, kv) {
		t.Fatalf("after Repair (lost %v): k reads %.20q, %v; its record is intact in the compaction's output", rep.LostKeys, v, err)
	}
}
