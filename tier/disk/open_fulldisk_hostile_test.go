package disk_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tiermem/tiermem/internal/tmpfs"
	"github.com/tiermem/tiermem/tier/disk"
)

// TestHostileOpenOnAFullDisk: a store whose last segment is full opens on
// a full disk, and serves what it holds. Open used to start the next
// segment at once and failed with ErrNoSpace, so that a process that
// restarted after the disk filled could not read a single value. Writes
// fail with ErrNoSpace until room comes back, then go to a new segment,
// and every acknowledged value survives another reopen.
func TestHostileOpenOnAFullDisk(t *testing.T) {
	dir, opts, ok, filler := fullStore(t, 20)
	s, err := disk.Open(dir, opts)
	if err != nil {
		t.Fatalf("Open of a store with a full last segment on a full disk: %v", err)
	}
	defer func() { s.Close() }()
	ok.check(t, s)
	wantNoSpace(t, ok.put(t, s, "while full", randomBytes(8<<10, 8)))
	if err := s.Sync(); err != nil {
		t.Fatalf("Sync with nothing written: %v", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	// SetMeta copies its record to the active segment: the first
	// segment the store creates since it opened.
	if _, err := s.SetMeta("small5", []byte("meta"), 1<<10); err != nil {
		t.Fatalf("SetMeta once room came back: %v", err)
	}
	if err := ok.put(t, s, "after", valueOf("after", 1)); err != nil {
		t.Fatalf("a Put once room came back: %v", err)
	}
	if _, err := s.Delete("small3"); err != nil {
		t.Fatal(err)
	}
	delete(ok, "small3")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, opts)
	ok.check(t, s)
	if meta, err := s.Meta("small5"); err != nil || string(meta) != "meta" {
		t.Errorf("small5's meta after a reopen: %q, %v", meta, err)
	}
	if _, err := s.Get("small3", nil); err == nil {
		t.Error("a deleted key is back after a reopen")
	}
}

// TestHostileCloseOfAStoreOpenedFull: a store opened on a full disk, and
// closed without a write, closes cleanly and opens again.
func TestHostileCloseOfAStoreOpenedFull(t *testing.T) {
	dir, opts, ok, filler := fullStore(t, 0)
	s, err := disk.Open(dir, opts)
	if err != nil {
		t.Fatalf("Open on a full disk: %v", err)
	}
	if err := s.Compact(); err != nil {
		t.Fatalf("Compact of a store opened on a full disk: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close of a store opened on a full disk, nothing written: %v", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, opts)
	ok.check(t, s)
}

// fullStore writes a closed store on a 2 MiB tmpfs, with small values
// acknowledged first and then one larger than a segment, alone in the last
// segment (so that Open cannot append to it), and fills the tmpfs; removing
// filler frees the space.
func fullStore(t *testing.T, small int) (dir string, opts *disk.Options, ok acked, filler string) {
	t.Helper()
	mnt := tmpfs.Mount(t, "2m")
	dir = filepath.Join(mnt, "cold")
	opts = &disk.Options{Compression: disk.NoCompression, CompactThreshold: -1, SegmentSize: 64 << 10}
	s := openStore(t, dir, opts)
	ok = acked{}
	for i := range small {
		ok.put(t, s, fmt.Sprint("small", i), valueOf("small", i))
	}
	ok.put(t, s, "large", randomBytes(100<<10, 7))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, opts, ok, tmpfs.Fill(t, mnt)
}
