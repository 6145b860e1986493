package tiermem_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestSnapshotHostileProgressMayUseTheManager: SnapshotOptions.Progress is
// "called from the goroutine that called Snapshot", with no word against
// calling the Manager from it (only SetDurability's doc names it among the
// callbacks it must not run from). A Progress that records the progress in
// the Manager itself (a status key a dashboard reads) must not hang the
// Snapshot and, with it, every Store to the keys near it and Close.
func TestSnapshotHostileProgressMayUseTheManager(t *testing.T) {
	// Not open(): its cleanup's Close would wait for the hung Snapshot.
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1,
	})
	must(t, err)
	for i := range 9000 {
		must(t, m.Store(key(i), []byte("v"), tiermem.InTier(tiermem.Hot)))
	}
	done := make(chan error, 1)
	go func() {
		calls := 0
		_, err := m.Snapshot(filepath.Join(t.TempDir(), "s"), &tiermem.SnapshotOptions{Progress: func(p tiermem.SnapshotProgress) {
			calls++
			for j := range 64 { // status keys spread over the hot tier's shards
				if err := m.Store(fmt.Sprint("status-", j), []byte(fmt.Sprint(p.Phase, p.Keys))); err != nil {
					t.Errorf("Store from Progress: %v", err)
				}
			}
		}})
		done <- err
	}()
	select {
	case err := <-done:
		must(t, err)
		must(t, m.Close())
	case <-time.After(5 * time.Second):
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		if i := bytes.Index(buf, []byte("Snapshot(")); i >= 0 {
			t.Logf("the Snapshot's goroutine:\n%s", buf[max(0, bytes.LastIndex(buf[:i], []byte("goroutine "))):min(len(buf), i+3000)])
		}
		t.Fatal("Snapshot hung: its Progress, called while the listing holds a hot shard's lock, cannot Store")
	}
}
