package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/tmpfs"
)

// TestSnapshotHostileFullDiskKeepsOldSnapshot: a Snapshot that runs out of disk
// fails with the file system's error naming the path, leaves no temporary
// file ("a failed Snapshot leaves no file"), keeps the previous snapshot
// at the same path whole, does not fail the Stores that run beside it
// (their pre-images go to the same full disk), and works again once there
// is room.
func TestSnapshotHostileFullDiskKeepsOldSnapshot(t *testing.T) {
	mnt := tmpfs.Mount(t, "1m")
	m := open(t, nil)
	small := bytes.Repeat([]byte("a"), 64<<10)
	for i := range 4 {
		must(t, m.Store(fmt.Sprint("old-", i), small, tiermem.InTier(tiermem.Tier(i%3))))
	}
	path := filepath.Join(mnt, "dump.tmsnap")
	first, err := m.Snapshot(path, nil)
	must(t, err)
	for i := range 40 {
		must(t, m.Store(fmt.Sprint("new-", i), bytes.Repeat([]byte{byte(i)}, 48<<10), tiermem.InTier(tiermem.Tier(i%3))))
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	tiermem.AfterSnapshotInstant(func() {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := m.Store(fmt.Sprint("new-", i%40), bytes.Repeat([]byte{byte(i)}, 48<<10)); err != nil {
					t.Errorf("a Store beside a snapshot on a full disk: %v", err)
					return
				}
			}
		})
	})
	_, err = m.Snapshot(path, nil)
	tiermem.AfterSnapshotInstant(nil)
	close(stop)
	wg.Wait()
	if err == nil {
		t.Fatal("a snapshot larger than the disk succeeded")
	}
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), path) {
		t.Errorf("Snapshot on a full disk = %v; want ENOSPC naming %s", err, path)
	}
	ents, _ := os.ReadDir(mnt)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) != 1 || names[0] != "dump.tmsnap" {
		t.Errorf("after the failed snapshot the directory holds %v; want only dump.tmsnap", names)
	}
	f, err := tiermem.OpenSnapshot(path)
	must(t, err)
	must(t, f.Verify())
	if f.Info().Keys != first.Keys || !f.Info().Created.Equal(first.Created) {
		t.Errorf("the previous snapshot changed: %+v, was %+v", f.Info(), first)
	}
	f.Close()
	must(t, m.Store("after", []byte("ok")))
	tmpfs.Grow(t, mnt, "8m")
	info, err := m.Snapshot(path, nil)
	must(t, err)
	if info.Keys != 45 {
		t.Errorf("the snapshot after room came back holds %d keys; want 45", info.Keys)
	}
}
