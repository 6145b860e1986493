//go:build linux

package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/tmpfs"
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

// TestRestoreOntoAFullDisk restores a snapshot of 96 cold values of 64 KiB
// into a Manager whose cold tier sits on a 4 MiB tmpfs (root only): the
// restore's workers run out of disk part way. Restore must say so with
// ErrNoSpace and how far it got, count in its report exactly the keys it
// stored, and every key it counts must read back as the snapshot held it.
func TestRestoreOntoAFullDisk(t *testing.T) {
	src, err := tiermem.Open(t.TempDir(), &tiermem.Options{MigrateInterval: -1, Glacier: tiermem.GlacierOptions{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	value := func(i int) []byte {
		v := make([]byte, 64<<10)
		rand.NewChaCha8([32]byte{byte(i)}).Read(v)
		return v
	}
	for i := range 96 {
		if err := src.Store(fmt.Sprintf("k%02d", i), value(i), tiermem.InTier(tiermem.Cold)); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "s.snapshot")
	if _, err := src.Snapshot(path, nil); err != nil {
		t.Fatal(err)
	}
	mnt := tmpfs.Mount(t, "4m")
	dst, err := tiermem.Open(filepath.Join(mnt, "data"), &tiermem.Options{MigrateInterval: -1,
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 1 << 20},
		Cold: tiermem.TierOptions{Size: 1 << 30}, Glacier: tiermem.GlacierOptions{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		// What the restore stored waits in the cold tier's write buffer
		// (Durability None) that the full disk cannot take: Close keeps the
		// Manager open until there is room, so make some.
		tmpfs.Grow(t, mnt, "64m")
		if err := dst.Close(); err != nil {
			t.Error(err)
		}
	}()
	r, err := dst.Restore(path, nil)
	if !errors.Is(err, tiermem.ErrNoSpace) {
		t.Fatalf("Restore of 6 MiB onto a 4 MiB disk = %+v, %v; want ErrNoSpace", r, err)
	}
	if r.Keys == 0 || r.Keys >= 96 {
		t.Fatalf("the report counts %d keys, want some of the 96", r.Keys)
	}
	found := int64(0)
	for i := range 96 {
		got, err := dst.Retrieve(fmt.Sprintf("k%02d", i))
		switch {
		case err == nil && bytes.Equal(got, value(i)):
			found++
		case err == nil:
			t.Fatalf("k%02d reads other bytes than the snapshot's", i)
		case !errors.Is(err, tiermem.ErrNotFound):
			t.Fatalf("k%02d: %v", i, err)
		}
	}
	if found != r.Keys {
		t.Fatalf("%d keys read back, the report counts %d", found, r.Keys)
	}
}

// TestCloseDuringRestore closes the Manager while a parallel Restore runs:
// Close waits for it (or Restore finds the Manager closed), nothing
// crashes, and the reopened Manager (refused as ErrRestoreIncomplete if the
// Close stopped the restore half way, and opened then as it is) holds
// either nothing of the snapshot or each of its keys with the snapshot's
// bytes.
func TestCloseDuringRestore(t *testing.T) {
	value := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 32<<10) }
	src, err := tiermem.Open(t.TempDir(), &tiermem.Options{MigrateInterval: -1, Glacier: tiermem.GlacierOptions{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	tiers := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold}
	for i := range 300 {
		if err := src.Store(fmt.Sprintf("k%03d", i), value(i), tiermem.InTier(tiers[i%3])); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "s.snapshot")
	if _, err := src.Snapshot(path, nil); err != nil {
		t.Fatal(err)
	}
	src.Close()
	dir := t.TempDir()
	o := &tiermem.Options{MigrateInterval: -1, Glacier: tiermem.GlacierOptions{Disabled: true}}
	m, err := tiermem.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := m.Restore(path, nil); done <- err }()
	time.Sleep(time.Millisecond)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil && !errors.Is(err, tiermem.ErrClosed) {
		t.Fatalf("Restore beside a Close = %v, want nil or ErrClosed", err)
	}
	m, err = tiermem.Open(dir, o)
	if errors.Is(err, tiermem.ErrRestoreIncomplete) { // the Close stopped the restore half way: the directory says so
		o.OpenIncompleteRestore = true
		m, err = tiermem.Open(dir, o)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for i := range 300 {
		got, err := m.Retrieve(fmt.Sprintf("k%03d", i))
		if err == nil && !bytes.Equal(got, value(i)) || err != nil && !errors.Is(err, tiermem.ErrNotFound) {
			t.Fatalf("k%03d after reopening: %d bytes, %v", i, len(got), err)
		}
	}
}
