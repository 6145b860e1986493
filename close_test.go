package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/tmpfs"
	"github.com/tiermem/tiermem/internal/vfs"
)

// closeRounds is how many times the Close races run: enough to hit the
// window in which a reader is inside a store, kept short under -race.
const closeRounds = 150

// TestCloseDuringReadsIsAnError races readers of every tier against Close:
// each read returns the value or ErrClosed, and the process never crashes
// (before the gate, the warm index was unmapped under a reader: SIGSEGV).
func TestCloseDuringReadsIsAnError(t *testing.T) {
	for round := range closeRounds {
		dir := t.TempDir()
		m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1 << 20},
			Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}})
		must(t, err)
		keys := []string{"h", "w", "c"}
		for i, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
			must(t, m.Store(keys[i], valueFor(keys[i]), tiermem.InTier(tr)))
		}
		var wg sync.WaitGroup
		errs := make(chan error, 3)
		for g := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					key := keys[(g+i)%3]
					got, err := m.Retrieve(key)
					if errors.Is(err, tiermem.ErrClosed) {
						return
					}
					if err != nil || !bytes.Equal(got, valueFor(key)) {
						errs <- fmt.Errorf("round %d: Retrieve(%q) during Close: %v", round, key, err)
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(round%20) * time.Microsecond)
		must(t, m.Close())
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
}

// TestCloseDuringStoresKeepsAcknowledged stores from several goroutines into
// every tier while Close runs: every Store that returned nil is found after
// reopen, with its value.
func TestCloseDuringStoresKeepsAcknowledged(t *testing.T) {
	for round := range closeRounds / 3 {
		dir := t.TempDir()
		o := tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 256 << 10},
			Warm: tiermem.TierOptions{Size: 512 << 10}, Cold: tiermem.TierOptions{Size: 1 << 30}}
		m, err := tiermem.Open(dir, &o)
		must(t, err)
		var mu sync.Mutex
		var acked []string
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tr := []tiermem.Tier{tiermem.Hot, tiermem.Hot, tiermem.Warm, tiermem.Cold}[g]
				for i := 0; ; i++ {
					key := fmt.Sprintf("g%d-%d", g, i)
					err := m.Store(key, []byte(key), tiermem.InTier(tr))
					if errors.Is(err, tiermem.ErrClosed) {
						return
					}
					if err != nil {
						t.Errorf("Store(%q): %v", key, err)
						return
					}
					mu.Lock()
					acked = append(acked, key)
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Duration(100+round*20) * time.Microsecond)
		must(t, m.Close())
		wg.Wait()
		m, err = tiermem.Open(dir, &o)
		must(t, err)
		for _, key := range acked {
			if got, err := m.Retrieve(key); err != nil || string(got) != key {
				t.Fatalf("round %d: acknowledged %q after reopen: %q, %v", round, key, got, err)
			}
		}
		must(t, m.Close())
	}
}

// TestCloseWaitsForMovesAndMigration closes while Moves, Deletes and
// migration passes run: nothing crashes, and every key that no Delete
// touched is found after reopen.
func TestCloseWaitsForMovesAndMigration(t *testing.T) {
	for round := range closeRounds / 5 {
		dir := t.TempDir()
		o := tiermem.Options{MigrateInterval: time.Millisecond, DemoteAfter: time.Millisecond,
			Hot: tiermem.TierOptions{Size: 64 << 10}, Warm: tiermem.TierOptions{Size: 128 << 10},
			Cold: tiermem.TierOptions{Size: 1 << 30}}
		m, err := tiermem.Open(dir, &o)
		must(t, err)
		for i := range 100 {
			must(t, m.Store(fmt.Sprint("k", i), valueFor(fmt.Sprint("k", i))))
		}
		var wg sync.WaitGroup
		for g := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tiers := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold}
				for i := 0; ; i++ {
					err := m.Move(fmt.Sprint("k", (g*37+i)%100), tiers[i%3])
					if errors.Is(err, tiermem.ErrClosed) {
						return
					}
					if err != nil && !errors.Is(err, tiermem.ErrNotFound) {
						t.Errorf("Move: %v", err)
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(round*100) * time.Microsecond)
		must(t, m.Close())
		wg.Wait()
		m, err = tiermem.Open(dir, &o)
		must(t, err)
		for i := range 100 {
			key := fmt.Sprint("k", i)
			if got, err := m.Retrieve(key); err != nil || !bytes.Equal(got, valueFor(key)) {
				t.Fatalf("round %d: %q after reopen: %v", round, key, err)
			}
		}
		must(t, m.Close())
	}
}

// TestFailedCloseCanBeRetried fills the disk under a Manager with
// Durability None holding values in hot, warm and cold: Close fails with
// ErrNoSpace, the Manager keeps serving, and once space returns a second
// Close succeeds and the next Open finds every value.
func TestFailedCloseCanBeRetried(t *testing.T) {
	o := tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}}
	dir := t.TempDir()
	m, fault := openOnFault(t, dir, o)
	keys := storeInEveryTier(t, m)
	coldBefore := m.Usage()[tiermem.Cold]
	fault.SetSpace(0)
	if err := m.Close(); !errors.Is(err, tiermem.ErrNoSpace) {
		t.Fatalf("Close on a full disk = %v, want ErrNoSpace", err)
	}
	checkKeys(t, m, keys)
	if u := m.Usage()[tiermem.Cold]; u.Items != coldBefore.Items {
		t.Errorf("after the failed Close the cold tier holds %d keys, want the %d it held: the copies Close wrote stay", u.Items, coldBefore.Items)
	}
	fault.SetSpace(-1)
	must(t, m.Close())
	if err := m.Close(); !errors.Is(err, tiermem.ErrClosed) {
		t.Fatalf("Close after a successful Close = %v, want ErrClosed", err)
	}
	m, err := tiermem.Open(dir, &o)
	must(t, err)
	defer m.Close()
	checkKeys(t, m, keys)
}

// storeInEveryTier stores a few values in each tier and returns their keys.
func storeInEveryTier(t *testing.T, m *tiermem.Manager) []string {
	t.Helper()
	var keys []string
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		for i := range 5 {
			key := fmt.Sprintf("%v-%d", tr, i)
			must(t, m.Store(key, valueFor(key), tiermem.InTier(tr)))
			keys = append(keys, key)
		}
	}
	return keys
}

func checkKeys(t *testing.T, m *tiermem.Manager, keys []string) {
	t.Helper()
	for _, key := range keys {
		if got, err := m.Retrieve(key); err != nil || !bytes.Equal(got, valueFor(key)) {
			t.Fatalf("%q: %v", key, err)
		}
	}
}

// TestFailedCloseOnARealFullDisk is TestFailedCloseCanBeRetried on a real
// file system that fills up: a 4 MiB tmpfs mounted for the test (root
// only). The disk is filled by a file beside the Manager's directory.
func TestFailedCloseOnARealFullDisk(t *testing.T) {
	mnt := tmpfs.Mount(t, "4m")
	dir := filepath.Join(mnt, "data")
	o := tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}}
	m, err := tiermem.Open(dir, &o)
	must(t, err)
	keys := storeInEveryTier(t, m)
	filler := tmpfs.Fill(t, mnt)
	if err := m.Close(); !errors.Is(err, tiermem.ErrNoSpace) {
		t.Fatalf("Close on a full disk = %v, want ErrNoSpace", err)
	}
	checkKeys(t, m, keys)
	must(t, os.Remove(filler))
	must(t, m.Close())
	m, err = tiermem.Open(dir, &o)
	must(t, err)
	defer m.Close()
	checkKeys(t, m, keys)
}

// TestCloseAfterAnFsyncIOError: no retry of an fsync that failed with EIO
// can succeed, so Close closes and says so, instead of leaving a Manager
// that can never close; the next Open finds what reached the disk.
func TestCloseAfterAnFsyncIOError(t *testing.T) {
	dir := t.TempDir()
	m, fault := openOnFault(t, dir, tiermem.Options{MigrateInterval: -1})
	keys := storeInEveryTier(t, m)
	fault.FailSyncs(syscall.EIO)
	if err := m.Close(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Close with failing fsyncs = %v, want EIO", err)
	}
	if err := m.Close(); !errors.Is(err, tiermem.ErrClosed) {
		t.Fatalf("a second Close = %v, want ErrClosed", err)
	}
	m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1})
	must(t, err)
	defer m.Close()
	checkKeys(t, m, keys) // the page cache kept them here
}

// openOnFault opens a Manager in dir with o, its cold tier on a Fault over
// the real file system, which it returns; o itself is left as it was, so
// that a reopen with it uses the real file system alone.
func openOnFault(t *testing.T, dir string, o tiermem.Options) (*tiermem.Manager, *vfs.Fault) {
	t.Helper()
	fault := vfs.NewFault(vfs.Default)
	tiermem.SetColdFS(&o, fault)
	m, err := tiermem.Open(dir, &o)
	must(t, err)
	return m, fault
}
