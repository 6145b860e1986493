package disk_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tiermem/tiermem/internal/tmpfs"
	"github.com/tiermem/tiermem/tier/disk"
)

// TestHostileLitterSegmentWithHugeID: a stray empty segment file named
// with an id near 2^64 ("fffffffffffffffe.seg") is not the store's (ids
// are below 2^63): it must not number the next segment, or the ids would
// wrap to 0 and 1 after a few rotations and the store would create
// segment 1 over its own, destroying the keys it held. Litter changes
// nothing.
func TestHostileLitterSegmentWithHugeID(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, hostileOpts)
	keys := fill(t, s, 30) // several segments: 1, 2, ...
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	litter := filepath.Join(dir, "fffffffffffffffe.seg")
	if err := os.WriteFile(litter, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, hostileOpts)
	defer s.Close()
	for i := range 12 { // would rotate past id 2^64-1 to 0, 1, 2
		mustPut(t, s, fmt.Sprint("more", i), bytes.Repeat([]byte("m"), 2000), nil)
	}
	for _, k := range keys {
		if got, err := s.Get(k, nil); err != nil || !bytes.Equal(got, valueOf(k, 0)) {
			t.Fatalf("after litter named fffffffffffffffe.seg: Get(%q) = %d bytes, %v", k, len(got), err)
		}
	}
	if _, err := os.Stat(litter); err != nil {
		t.Errorf("the litter was not left alone: %v", err)
	}
}

// TestHostileLitterUpperCaseName: a file named with 16 upper-case hex
// digits and ".seg" is not a name the store writes (it writes lower
// case): Open and Repair must ignore it, not take it for segment 0xAB and
// then fail to open the lower-case name, which does not exist. Litter
// changes nothing (TestOpenSurvivesLitter).
func TestHostileLitterUpperCaseName(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, hostileOpts)
	keys := fill(t, s, 10)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "00000000000000AB.seg"), []byte("copied here by hand"), 0o644); err != nil {
		t.Fatal(err)
	}
	if rep, err := disk.Repair(dir, nil); err != nil || !rep.Clean() {
		t.Fatalf("Repair with a file 00000000000000AB.seg in the directory: %+v, %v", rep.Damage, err)
	}
	s, err := disk.Open(dir, hostileOpts)
	if err != nil {
		t.Fatalf("Open with a file 00000000000000AB.seg in the directory: %v", err)
	}
	defer s.Close()
	checkAll(t, s, keys)
}

// openWithHintOfSize truncates (or extends, sparse) the hint file of the
// segment holding keys[0] to size bytes, then opens dir: the store must
// open without panicking, ignoring the hint, and read every key.
func openWithHintOfSize(t *testing.T, dir string, size int64) {
	t.Helper()
	s := openStore(t, dir, hostileOpts)
	keys := fill(t, s, 10)
	first := locate(t, s, keys[0]).SegmentID
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(disk.HintFile(dir, first), size); err != nil {
		t.Fatal(err)
	}
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("Open panicked: %v", p)
			}
		}()
		s, err = disk.Open(dir, hostileOpts)
	}()
	if err != nil {
		t.Fatalf("Open with a hint file of %d bytes for segment %d: %v", size, first, err)
	}
	defer s.Close()
	checkAll(t, s, keys)
}

// TestHostileHugeHintFile: a hint file whose size is absurd for its
// segment (a damaged inode, a sparse file left by a tool: 2^49 bytes for
// a 4 KiB segment) is a hint that fails its checks: Open ignores it and
// scans the segment, allocating nothing of that size ("Recovery never
// panics on garbage: every length is checked against the file before it
// is used"). It needs a tmpfs (root): ext4 cannot hold the sparse file.
func TestHostileHugeHintFile(t *testing.T) {
	mnt := tmpfs.Mount(t, "64m")
	openWithHintOfSize(t, filepath.Join(mnt, "store"), 1<<49)
}

// TestHostileOversizedHintFile is TestHostileHugeHintFile on any file
// system, without root: a hint of 256 MiB (sparse) for a 4 KiB segment is
// larger than any hint of that segment can be, and is ignored unread.
func TestHostileOversizedHintFile(t *testing.T) {
	openWithHintOfSize(t, t.TempDir(), 256<<20)
}

// TestHostileNewSegmentNeverOverwrites: a file that appears, while the
// store runs, under the name of the segment it creates next is never
// overwritten: the write that needed the new segment fails with
// ErrNoSegmentID, the file keeps its bytes, and the store goes on with the
// next id.
func TestHostileNewSegmentNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, hostileOpts)
	defer s.Close()
	keys := fill(t, s, 5)
	segs, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil || len(segs) == 0 {
		t.Fatalf("no segments: %v", err)
	}
	var last uint64
	fmt.Sscanf(filepath.Base(slices.Max(segs)), "%x.seg", &last)
	litter, content := disk.SegmentFile(dir, last+1), []byte("not the store's")
	if err := os.WriteFile(litter, content, 0o644); err != nil {
		t.Fatal(err)
	}
	var failed error
	for i := 0; i < 4 && failed == nil; i++ { // rotates at least once
		_, failed = s.Put(fmt.Sprint("more", i), bytes.Repeat([]byte("m"), 2000), nil)
	}
	if !errors.Is(failed, disk.ErrNoSegmentID) {
		t.Fatalf("a rotation onto %s: %v, want ErrNoSegmentID", filepath.Base(litter), failed)
	}
	if b, err := os.ReadFile(litter); err != nil || !bytes.Equal(b, content) {
		t.Fatalf("%s holds %q, %v: it was overwritten", filepath.Base(litter), b, err)
	}
	mustPut(t, s, "after", []byte("the next id is free"), nil)
	mustPut(t, s, "after2", bytes.Repeat([]byte("a"), 3000), nil)
	checkAll(t, s, keys)
}
