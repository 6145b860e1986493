package tiermem_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestCloseDuringASnapshotWhoseProgressCallsAnalytics: Close waits for a
// Snapshot in flight, whose Progress then calls DisableAnalytics and
// EnableAnalytics ("safe to call concurrently with any method"). Neither
// may wait for the Close that waits for them: they return (Enable with
// ErrClosed), the Snapshot ends and Close returns.
func TestCloseDuringASnapshotWhoseProgressCallsAnalytics(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{MigrateInterval: -1})
	must(t, err)
	for i := range 10 {
		must(t, m.Store(fmt.Sprint("k", i), []byte("v"), tiermem.InTier(tiermem.Hot)))
	}
	must(t, m.EnableAnalytics(time.Hour))
	started := make(chan struct{})
	var once sync.Once
	var enableErr error
	progress := func(tiermem.SnapshotProgress) {
		once.Do(func() {
			close(started)
			time.Sleep(200 * time.Millisecond) // Close begins meanwhile and waits for this Snapshot
			m.DisableAnalytics()
			enableErr = m.EnableAnalytics(time.Hour)
		})
	}
	snapshotDone := make(chan error, 1)
	go func() {
		_, err := m.Snapshot(filepath.Join(t.TempDir(), "s.tmsnap"), &tiermem.SnapshotOptions{Progress: progress})
		snapshotDone <- err
	}()
	<-started
	closeDone := make(chan error, 1)
	go func() { closeDone <- m.Close() }()
	for _, c := range []chan error{snapshotDone, closeDone} {
		select {
		case err := <-c:
			must(t, err)
		case <-time.After(time.Minute):
			t.Fatal("deadlock: Close and a Snapshot whose Progress calls the analytics methods have not returned in a minute")
		}
	}
	if !errors.Is(enableErr, tiermem.ErrClosed) {
		t.Errorf("EnableAnalytics while Close waits = %v, want ErrClosed", enableErr)
	}
}
