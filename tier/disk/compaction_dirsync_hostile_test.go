package disk_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tiermem/tiermem/internal/vfs"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// removalSyncFails is the OS file system whose directory sync fails once a
// segment file has been removed, while armed: the disk that fails the
// sync after compaction retired its first input.
type removalSyncFails struct {
	vfs.FS
	armed, removed atomic.Bool
}

func (f *removalSyncFails) Remove(name string) error {
	if strings.HasSuffix(name, ".seg") {
		f.removed.Store(true)
	}
	return f.FS.Remove(name)
}

func (f *removalSyncFails) SyncDir(dir string) error {
	if f.armed.Load() && f.removed.Load() {
		return errors.New("injected: directory sync failed")
	}
	return f.FS.SyncDir(dir)
}

// TestHostileCompactionStopsRetiringWhenTheDirectorySyncFails: inputs are
// removed one at a time, each removal synced, because a tombstone may be
// dropped when the put it shadowed lies in an earlier input. When the
// sync after the first removal fails, that removal may not survive a
// crash: compaction must then leave the later inputs (the tombstone's) in
// place, so that a crash that brings the first back does not bring the
// deleted key back with it.
func TestHostileCompactionStopsRetiringWhenTheDirectorySyncFails(t *testing.T) {
	dir := t.TempDir()
	fs := &removalSyncFails{FS: vfs.Default}
	opts := &disk.Options{SegmentSize: 4 << 10, Compression: disk.NoCompression, CompactThreshold: -1, FS: fs}
	s := openStore(t, dir, opts)
	mustPut(t, s, "x", []byte("deleted later"), nil)
	first := locate(t, s, "x").File
	mustPut(t, s, "pad1", bytes.Repeat([]byte("a"), 4000), nil) // does not fit: x's segment is sealed
	if _, err := s.Delete("x"); err != nil {                    // nor does the tombstone: a segment of its own
		t.Fatal(err)
	}
	mustPut(t, s, "pad2", bytes.Repeat([]byte("b"), 4000), nil) // the tombstone's segment is sealed
	mustPut(t, s, "y", []byte("in the newest segment"), nil)
	if locate(t, s, "pad1").File == first || locate(t, s, "pad2").File == first {
		t.Fatal("the layout changed: x shares its segment")
	}
	saved, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	fs.armed.Store(true)
	s.Compact() // it may fail or not: what counts is what a crash leaves
	s.Crash()
	if _, err := os.Stat(first); errors.Is(err, os.ErrNotExist) {
		// The crash lost the removal the failed sync did not make durable.
		if err := os.WriteFile(first, saved, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fs.armed.Store(false)
	s, err = disk.Open(dir, opts)
	if err != nil {
		if !errors.Is(err, tier.ErrCorrupt) {
			t.Fatal(err)
		}
		return
	}
	defer s.Close()
	if v, err := s.Get("x", nil); err == nil {
		t.Errorf("the deleted key x reads %q after a compaction whose directory sync failed and a crash", v)
	}
}
