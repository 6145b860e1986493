//go:build linux

package tiermem_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestSnapshotAndRestoreKeepTheirPagesBounded checks the memory promise of
// snapshots on data larger than the pages they may keep: a Snapshot of 192
// MiB of cold values, and its Restore, each leave at most about 64 MiB of
// file pages mapped in the process at a time (cold's segments, the
// snapshot file), not all of them.
func TestSnapshotAndRestoreKeepTheirPagesBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 192 MiB twice")
	}
	dir := t.TempDir()
	m, err := tiermem.Open(filepath.Join(dir, "data"), &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 8 << 20}, Warm: tiermem.TierOptions{Size: 8 << 20},
		Cold: tiermem.TierOptions{Size: 1 << 30}, Glacier: tiermem.GlacierOptions{Disabled: true}, MigrateInterval: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	v := make([]byte, 1<<20)
	rng := rand.NewChaCha8([32]byte{3})
	for i := range 192 {
		rng.Read(v) // incompressible: cold keeps every byte
		if err := m.Store(fmt.Sprintf("v%03d", i), v, tiermem.InTier(tiermem.Cold)); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "s.snapshot")
	if got := filePagesDuring(t, func() error { _, err := m.Snapshot(path, nil); return err }); got > 128<<10 {
		t.Errorf("Snapshot of 192 MiB of cold: %d MiB of file pages mapped at the peak, want about 64", got>>10)
	}
	if got := filePagesDuring(t, func() error { _, err := m.Restore(path, nil); return err }); got > 128<<10 {
		t.Errorf("Restore of a 192 MiB snapshot: %d MiB of file pages mapped at the peak, want about 64", got>>10)
	}
}

// filePagesDuring runs fn and returns the peak, in KiB, of the file-backed
// pages mapped in the process (VmRSS less RssAnon) above their level
// before it.
func filePagesDuring(t *testing.T, fn func() error) int64 {
	t.Helper()
	filePages := func() int64 { all, anon := rssKB(); return all - anon }
	base := filePages()
	var peak atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			peak.Store(max(peak.Load(), filePages()-base))
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	})
	err := fn()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	return peak.Load()
}
