package disk_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tiermem/tiermem/internal/vfs"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// fsyncsOf returns the store's segment fsyncs so far.
func fsyncsOf(s *disk.Store) int64 { return s.Stats().Fsyncs }

// TestSetSyncChangesWhenWritesSync switches a store through every mode
// and checks by its fsync count that each Put then syncs as the mode says,
// and that what a crash keeps follows.
func TestSetSyncChangesWhenWritesSync(t *testing.T) {
	dir := t.TempDir()
	opts := &disk.Options{Sync: disk.SyncNone, CompactThreshold: -1}
	s := openStore(t, dir, opts)
	mustPut(t, s, "none", []byte("v"), nil)
	if n := fsyncsOf(s); n != 0 {
		t.Fatalf("SyncNone: %d fsyncs after a Put", n)
	}

	if err := s.SetSync(disk.SyncAlways); err != nil {
		t.Fatal(err)
	}
	if s.SyncMode() != disk.SyncAlways {
		t.Fatalf("SyncMode = %v after SetSync(SyncAlways)", s.SyncMode())
	}
	if fsyncsOf(s) == 0 {
		t.Fatal("SetSync(SyncAlways) did not sync what was written before it")
	}
	for i := range 5 {
		before := fsyncsOf(s)
		mustPut(t, s, fmt.Sprint("always", i), []byte("v"), nil)
		if fsyncsOf(s) == before {
			t.Fatalf("SyncAlways: Put %d returned without an fsync", i)
		}
	}

	if err := s.SetSync(disk.SyncNone); err != nil {
		t.Fatal(err)
	}
	before := fsyncsOf(s)
	for i := range 5 {
		mustPut(t, s, fmt.Sprint("none-again", i), []byte("v"), nil)
	}
	time.Sleep(250 * time.Millisecond) // two of SyncNone's flushes: writes, no fsync
	if n := fsyncsOf(s) - before; n != 0 {
		t.Fatalf("SyncNone again: %d fsyncs for 5 Puts", n)
	}

	if err := s.SetSync(disk.SyncEvery(20 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "every", []byte("v"), nil)
	synced := fsyncsOf(s)
	deadline := time.Now().Add(10 * time.Second)
	for mustPut(t, s, "every", []byte("w"), nil); fsyncsOf(s) == synced; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("SyncEvery(20ms): no background fsync in 10 s")
		}
	}

	// What SyncAlways acknowledged survives a crash with no Close.
	if err := s.SetSync(disk.SyncAlways); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "last", []byte("kept"), nil)
	s.Crash()
	s = openStore(t, dir, opts)
	for _, k := range []string{"none", "always0", "always4", "every", "last"} {
		if _, err := s.Get(k, nil); err != nil {
			t.Errorf("after a crash, %q: %v", k, err)
		}
	}
	s.Close()
}

func TestSetSyncErrors(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	if err := s.SetSync(disk.SyncMode(-2)); !errors.Is(err, disk.ErrInvalidOptions) {
		t.Fatalf("SetSync(-2) = %v, want ErrInvalidOptions", err)
	}
	if s.SyncMode() != disk.SyncNone {
		t.Fatalf("a refused SetSync changed the mode to %v", s.SyncMode())
	}
	s.Close()
	if err := s.SetSync(disk.SyncAlways); !errors.Is(err, tier.ErrClosed) {
		t.Fatalf("SetSync after Close = %v, want ErrClosed", err)
	}
}

// TestSetSyncFailedKeepsTheOldMode: when the sync that a stricter mode
// needs fails, SetSync says so and the store stays as it was.
func TestSetSyncFailedKeepsTheOldMode(t *testing.T) {
	fault := vfs.NewFault(vfs.Default)
	s := openStore(t, t.TempDir(), &disk.Options{FS: fault, CompactThreshold: -1})
	mustPut(t, s, "k", []byte("v"), nil)
	fault.SetSpace(0)
	err := s.SetSync(disk.SyncAlways)
	if !errors.Is(err, tier.ErrNoSpace) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("SetSync(SyncAlways) with a full disk = %v, want ErrNoSpace", err)
	}
	if s.SyncMode() != disk.SyncNone {
		t.Fatalf("a failed SetSync left the mode at %v", s.SyncMode())
	}
	fault.SetSpace(-1)
	if err := s.SetSync(disk.SyncAlways); err != nil {
		t.Fatalf("SetSync once space returned: %v", err)
	}
	mustGet(t, s, "k", []byte("v"))
	s.Close()
}

// TestSetSyncUnderLoad changes the mode over and over while writers and
// readers run (run with -race): every acknowledged write reads back, and
// after a Close the reopened store holds them.
func TestSetSyncUnderLoad(t *testing.T) {
	dir := t.TempDir()
	opts := &disk.Options{SegmentSize: 64 << 10, CompactThreshold: 0.3}
	s := openStore(t, dir, opts)
	var stop atomic.Bool
	var wg sync.WaitGroup
	last := make([]map[string][]byte, 3) // each writer's own keys: the last value acknowledged
	for w := range last {
		last[w] = map[string][]byte{}
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				k := fmt.Sprintf("w%d-%d", w, i%50)
				v := valueOf(k, i)
				if _, err := s.Put(k, v, nil); err != nil {
					t.Error(err)
					return
				}
				last[w][k] = v
			}
		})
	}
	modes := []disk.SyncMode{disk.SyncAlways, disk.SyncNone, disk.SyncEvery(time.Millisecond), disk.SyncEverySecond}
	for i := range 40 {
		if err := s.SetSync(modes[i%len(modes)]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, opts)
	defer s.Close()
	for _, m := range last {
		for k, v := range m {
			mustGet(t, s, k, v)
		}
	}
}
