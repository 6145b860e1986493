package disk_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tiermem/tiermem/internal/tmpfs"
	"github.com/tiermem/tiermem/internal/vfs"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// TestCloseOnFullDisk: under SyncNone a Put returns once its record is in
// the write buffer. A Close that cannot write the buffer must fail and
// leave the store open, every acknowledged record kept, so that a Close
// after space returns finds nothing lost.
func TestCloseOnFullDisk(t *testing.T) {
	dir := t.TempDir()
	fault := vfs.NewFault(vfs.Default)
	opts := &disk.Options{FS: fault, Compression: disk.NoCompression, CompactThreshold: -1}
	s, err := disk.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	ok := acked{}
	for i := range 20 {
		ok.put(t, s, fmt.Sprint("before", i), valueOf("before", i))
	}
	fault.SetSpace(0)
	for i := range 20 {
		if err := ok.put(t, s, fmt.Sprint("buffered", i), valueOf("buffered", i)); err != nil {
			t.Fatalf("a Put that fits the buffer: %v", err)
		}
	}
	wantNoSpace(t, s.Close())
	wantNoSpace(t, s.Close()) // still open, still full
	ok.check(t, s)
	wantNoSpace(t, ok.put(t, s, "large", randomBytes(200<<10, 1)))
	fault.SetSpace(-1)
	ok.put(t, s, "after", []byte("space returned"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close after space returned: %v", err)
	}
	if err := s.Close(); !errors.Is(err, tier.ErrClosed) {
		t.Fatalf("second Close = %v, want ErrClosed", err)
	}
	s = openStore(t, dir, opts)
	ok.check(t, s)
}

// TestCloseOnFullTmpfs does what TestCloseOnFullDisk does on a real full
// file system: a 2 MiB tmpfs, filled by another file.
func TestCloseOnFullTmpfs(t *testing.T) {
	mnt := tmpfs.Mount(t, "2m")
	dir := filepath.Join(mnt, "cold")
	opts := &disk.Options{Compression: disk.NoCompression, CompactThreshold: -1}
	s, err := disk.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ok := acked{}
	for i := range 50 {
		ok.put(t, s, fmt.Sprint("before", i), valueOf("before", i))
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	filler := tmpfs.Fill(t, mnt)
	for i := range 50 {
		if err := ok.put(t, s, fmt.Sprint("buffered", i), valueOf("buffered", i)); err != nil {
			t.Fatalf("a Put that fits the buffer: %v", err)
		}
	}
	wantNoSpace(t, ok.put(t, s, "large", randomBytes(300<<10, 1)))
	wantNoSpace(t, s.Close())
	ok.check(t, s)
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close after space was freed: %v", err)
	}
	s = openStore(t, dir, opts)
	ok.check(t, s)
}

// TestCloseDuringOperations closes the store while goroutines Put, Get,
// View, Delete, Scan, Sync and Compact: nothing may crash, every call
// after the Close must return ErrClosed, and every Put and Delete that
// returned nil must hold after a reopen. Run it with -race.
func TestCloseDuringOperations(t *testing.T) {
	rounds := 200
	if testing.Short() {
		rounds = 40
	}
	base := memTempDir(t)
	for round := range rounds {
		dir := filepath.Join(base, fmt.Sprint(round))
		opts := &disk.Options{SegmentSize: 8 << 10, CompactThreshold: 0.3}
		if round%2 == 1 {
			opts.Sync = disk.SyncAlways
		}
		closeDuring(t, dir, opts, uint64(round))
		if t.Failed() {
			t.Fatalf("round %d failed", round)
		}
		os.RemoveAll(dir)
	}
}

// closeDuring runs one round of TestCloseDuringOperations.
func closeDuring(t *testing.T, dir string, opts *disk.Options, seed uint64) {
	s, err := disk.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	states := make([]map[string][]byte, closeWorkers) // worker's keys: value, or nil once deleted
	var wg sync.WaitGroup
	for w := range closeWorkers {
		states[w] = map[string][]byte{}
		wg.Go(func() { closeWorker(t, s, w, states[w], rand.New(rand.NewPCG(seed, uint64(w)))) })
	}
	time.Sleep(time.Duration(rand.New(rand.NewPCG(seed, 99)).IntN(3000)) * time.Microsecond)
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	wg.Wait()
	s, err = disk.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, st := range states {
		for k, v := range st {
			got, err := s.Get(k, nil)
			switch {
			case v == nil && !errors.Is(err, tier.ErrNotFound):
				t.Errorf("deleted %q reads %d bytes, %v", k, len(got), err)
			case v != nil && (err != nil || string(got) != string(v)):
				t.Errorf("acknowledged %q reads %d bytes, %v", k, len(got), err)
			}
		}
	}
}

// closeWorker runs operations on s until one reports the store closed,
// recording in st what was acknowledged.
func closeWorker(t *testing.T, s *disk.Store, w int, st map[string][]byte, r *rand.Rand) {
	for i := 0; ; i++ {
		key := fmt.Sprintf("w%d-%d", w, i)
		var err error
		switch op := r.IntN(10); {
		case op < 4:
			v := valueOf(key, 0)
			if _, err = s.Put(key, v, nil); err == nil {
				st[key] = v
			}
		case op < 5 && i > 0:
			victim := fmt.Sprintf("w%d-%d", w, r.IntN(i))
			if _, err = s.Delete(victim); err == nil {
				st[victim] = nil
			}
		case op < 7:
			_, err = s.Get(fmt.Sprintf("w%d-%d", r.IntN(closeWorkers), r.IntN(i+1)), nil)
		case op < 8:
			err = s.View(key, func([]byte) error { return nil })
		case op < 9:
			err = s.Scan(func(string, []byte, int64) error { return errStopScan })
		default:
			err = []func() error{s.Sync, s.Compact}[r.IntN(2)]()
		}
		if errors.Is(err, tier.ErrClosed) {
			return
		}
		if err != nil && !errors.Is(err, tier.ErrNotFound) && err != errStopScan {
			t.Errorf("worker %d: %v", w, err)
			return
		}
	}
}

const closeWorkers = 6

var errStopScan = errors.New("stop")

// TestEverySecondRefusesWritesItCannotSync fills the disk under a store
// syncing every 20 ms: once a background sync has failed, Puts fail too
// (they were acknowledged into the buffer, and a crash would have lost far
// more than the interval's worth), and they work again once space returns.
func TestEverySecondRefusesWritesItCannotSync(t *testing.T) {
	fault := vfs.NewFault(vfs.Default)
	s, err := disk.Open(t.TempDir(), &disk.Options{FS: fault, Sync: disk.SyncEvery(20 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ok := acked{}
	ok.put(t, s, "before", []byte("on disk"))
	fault.SetSpace(0)
	refused := false
	for i := 0; i < 200 && !refused; i++ {
		refused = ok.put(t, s, fmt.Sprint("k", i), []byte("v")) != nil
		time.Sleep(5 * time.Millisecond)
	}
	if !refused {
		t.Fatal("Puts went on being acknowledged for a second after every background sync failed")
	}
	wantNoSpace(t, ok.put(t, s, "refused", []byte("v")))
	fault.SetSpace(-1)
	if err := ok.put(t, s, "after", []byte("space returned")); err != nil {
		t.Fatalf("Put once space returned: %v", err)
	}
	ok.check(t, s)
}

// TestFsyncIOErrorIsSticky fails one fsync with EIO: every later Sync must
// fail too, though the device answers again (the system may have dropped
// the pages it failed to write, so a clean fsync proves nothing), and Close
// must release the store, reporting the error, so that a reopen recovers
// what reached the disk.
func TestFsyncIOErrorIsSticky(t *testing.T) {
	dir := t.TempDir()
	fault := vfs.NewFault(vfs.Default)
	s, err := disk.Open(dir, &disk.Options{FS: fault})
	if err != nil {
		t.Fatal(err)
	}
	ok := acked{}
	ok.put(t, s, "k", []byte("v"))
	fault.FailSyncs(syscall.EIO)
	if err := s.Sync(); !errors.Is(err, syscall.EIO) || !errors.Is(err, disk.ErrSyncFailed) {
		t.Fatalf("Sync with a failing device = %v, want EIO and ErrSyncFailed", err)
	}
	fault.FailSyncs(nil)
	if err := s.Sync(); !errors.Is(err, disk.ErrSyncFailed) {
		t.Fatalf("Sync after an fsync I/O error, device answering again = %v, want ErrSyncFailed", err)
	}
	if err := s.Close(); !errors.Is(err, disk.ErrSyncFailed) {
		t.Fatalf("Close = %v, want ErrSyncFailed", err)
	}
	s, err = disk.Open(dir, nil) // the lock was released
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, _, err := s.GetMeta("k", nil); err != nil || string(got) != "v" {
		t.Errorf("after reopen: %q, %v (the page cache kept it here)", got, err)
	}
}
