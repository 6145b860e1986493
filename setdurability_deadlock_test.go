package tiermem_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestSetDurabilityDuringASnapshotWhoseProgressCallsTheManager: while
// SetDurability waits for the operations in flight, a Snapshot among them,
// the Snapshot's Progress calls DisableAnalytics (which takes the lock
// Close holds). SetDurability does not hold that lock, so both return (a
// review found them deadlocked when it did).
func TestSetDurabilityDuringASnapshotWhoseProgressCallsTheManager(t *testing.T) {
	dir := t.TempDir()
	m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1})
	must(t, err)
	for i := range 10 {
		must(t, m.Store(fmt.Sprint("k", i), []byte("v"), tiermem.InTier(tiermem.Hot)))
	}
	started := make(chan struct{})
	var once sync.Once
	progress := func(tiermem.SnapshotProgress) {
		once.Do(func() {
			close(started)
			time.Sleep(200 * time.Millisecond) // SetDurability waits for this Snapshot meanwhile
			m.DisableAnalytics()
		})
	}
	done := make(chan error, 2)
	go func() {
		_, err := m.Snapshot(filepath.Join(t.TempDir(), "s.tmsnap"), &tiermem.SnapshotOptions{Progress: progress})
		done <- err
	}()
	<-started
	go func() { done <- m.SetDurability(tiermem.Always) }()
	for range 2 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(time.Minute):
			t.Fatal("deadlock: Snapshot (its Progress in DisableAnalytics) and SetDurability have not returned in a minute")
		}
	}
	must(t, m.Close())
}
