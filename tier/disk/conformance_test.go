package disk_test

import (
	"testing"

	"github.com/tiermem/tiermem/internal/tiertest"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// TestConformance runs the suite every backend runs, with its Persistent
// checks: stores in fresh directories, reopened from them.
func TestConformance(t *testing.T) {
	testConformance(t, nil)
}

// TestConformanceSyncAlways runs it with group commit and an fsync per
// batch, uncompressed, in small segments, so that Close meets writers
// waiting on a leader and the suite's big values rotate segments.
func TestConformanceSyncAlways(t *testing.T) {
	if testing.Short() {
		t.Skip("fsyncs every write: seconds on a slow disk")
	}
	testConformance(t, &disk.Options{Sync: disk.SyncAlways, Compression: disk.NoCompression, SegmentSize: 1 << 20})
}

func testConformance(t *testing.T, opts *disk.Options) {
	open := func(t *testing.T, dir string) tier.Store {
		t.Helper()
		s, err := disk.Open(dir, opts)
		if err != nil {
			t.Fatalf("Open(%s): %v", dir, err)
		}
		return s
	}
	tiertest.Run(t, func(t *testing.T) tier.Store { return open(t, t.TempDir()) }, &tiertest.Options{Reopen: open})
}
