package disk_test

import (
	"testing"
	"time"

	"github.com/tiermem/tiermem/internal/vfs"
	"github.com/tiermem/tiermem/tier/disk"
)

// TestHostileColdSyncWaitsForTheFsyncInFlight: "Sync makes every Put and
// Delete that returned before it durable". A Put under SyncNone, then two
// Syncs: the first writes the record and starts the segment's fsync (slow
// here); the second finds the segment's dirty flag already cleared by the
// first and returns nil at once, while no fsync covering the record has
// completed (and the one in flight may yet fail). The same early return
// lets compaction retire its inputs (compactLocked's syncAll), SetSync
// switch to a stricter mode, and a SyncEvery payDebt succeed before the
// records they vouch for are on disk.
func TestHostileColdSyncWaitsForTheFsyncInFlight(t *testing.T) {
	fs := &holdFS{FS: vfs.Default}
	s := openStore(t, t.TempDir(), &disk.Options{FS: fs, Sync: disk.SyncNone, CompactThreshold: -1})
	mustPut(t, s, "k", []byte("acknowledged, buffered"), nil)
	entered, release := fs.arm()
	defer release()
	first := make(chan error, 1)
	go func() { first <- s.Sync() }()
	<-entered // the first Sync wrote the record and is inside the segment's fsync
	second := make(chan error, 1)
	go func() { second <- s.Sync() }()
	select {
	case err := <-second:
		t.Errorf("Sync returned %v while the only fsync of the segment holding the Put was still in flight", err)
	case <-time.After(300 * time.Millisecond):
		release()
		if err := <-second; err != nil {
			t.Error(err)
		}
	}
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
}
