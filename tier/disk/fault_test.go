package disk_test

import (
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/tiermem/tiermem/internal/vfs"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// acked tracks what a store acknowledged, to check after faults.
type acked map[string][]byte

func (a acked) put(t *testing.T, s *disk.Store, key string, value []byte) error {
	t.Helper()
	_, err := s.Put(key, value, nil)
	if err == nil {
		a[key] = value
	}
	return err
}

func (a acked) check(t *testing.T, s *disk.Store) {
	t.Helper()
	for k, v := range a {
		mustGet(t, s, k, v)
	}
}

func wantNoSpace(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, tier.ErrNoSpace) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("got %v, want an error wrapping tier.ErrNoSpace and ENOSPC", err)
	}
}

func TestDiskFullAlways(t *testing.T) {
	dir := t.TempDir()
	fault := vfs.NewFault(vfs.Default)
	opts := &disk.Options{FS: fault, Sync: disk.SyncAlways, SegmentSize: 16 << 10, CompactThreshold: -1}
	s := openStore(t, dir, opts)
	ok := acked{}
	for i := range 60 {
		if err := ok.put(t, s, fmt.Sprint("before", i), valueOf("before", i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, space := range []int64{0, 10, 100, 1000} { // full, and full in the middle of a record
		fault.SetSpace(space)
		var err error
		for i := 0; err == nil; i++ {
			err = ok.put(t, s, fmt.Sprintf("full%d-%d", space, i), valueOf("full", i))
		}
		wantNoSpace(t, err)
		ok.check(t, s)
	}
	if _, err := s.Delete("before0"); !errors.Is(err, tier.ErrNoSpace) {
		t.Fatalf("Delete on a full disk = %v", err)
	}
	fault.SetSpace(-1) // space returns
	for i := range 60 {
		if err := ok.put(t, s, fmt.Sprint("after", i), valueOf("after", i)); err != nil {
			t.Fatalf("Put after space returned: %v", err)
		}
	}
	ok.check(t, s)
	s.Crash()
	s = openStore(t, dir, opts)
	ok.check(t, s)
	if st := s.Stats(); st.TruncatedBytes != 0 {
		t.Fatalf("failed writes left bytes behind: %+v", st)
	}
}

func TestDiskFullBuffered(t *testing.T) {
	dir := t.TempDir()
	fault := vfs.NewFault(vfs.Default)
	opts := &disk.Options{FS: fault, SegmentSize: 4 << 20, Compression: disk.NoCompression}
	s := openStore(t, dir, opts)
	ok := acked{}
	for i := range 20 {
		ok.put(t, s, fmt.Sprint("before", i), valueOf("before", i))
	}
	fault.SetSpace(0)
	// A large value is written straight through and fails at once.
	wantNoSpace(t, ok.put(t, s, "large", randomBytes(200<<10, 1)))
	// Small ones wait in the write buffer until it fills.
	var err error
	for i := 0; err == nil; i++ {
		err = ok.put(t, s, fmt.Sprint("small", i), randomBytes(4<<10, uint64(i)))
	}
	wantNoSpace(t, err)
	ok.check(t, s) // the buffered ones read from the buffer
	wantNoSpace(t, s.Sync())
	fault.SetSpace(-1)
	if err := s.Sync(); err != nil {
		t.Fatalf("Sync after space returned: %v", err)
	}
	ok.put(t, s, "after", []byte("v"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, opts)
	ok.check(t, s)
}

func TestFailedSyncFailsTheBatch(t *testing.T) {
	dir := t.TempDir()
	fault := vfs.NewFault(vfs.Default)
	opts := &disk.Options{FS: fault, Sync: disk.SyncAlways}
	s := openStore(t, dir, opts)
	ok := acked{}
	ok.put(t, s, "a", []byte("1"))
	fault.FailSyncs(syscall.EIO)
	if err := ok.put(t, s, "b", []byte("2")); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Put with a failing fsync = %v", err)
	}
	if _, err := s.Get("b", nil); !errors.Is(err, tier.ErrNotFound) {
		t.Fatalf("an unacknowledged put is readable: %v", err)
	}
	fault.FailSyncs(nil)
	ok.put(t, s, "c", []byte("3"))
	s.Crash()
	s = openStore(t, dir, opts)
	ok.check(t, s)
	if _, err := s.Get("b", nil); !errors.Is(err, tier.ErrNotFound) {
		t.Fatalf("the failed put came back: %v", err)
	}
}

func TestCompactionOnFullDisk(t *testing.T) {
	dir := t.TempDir()
	fault := vfs.NewFault(vfs.Default)
	opts := &disk.Options{FS: fault, SegmentSize: 16 << 10, CompactThreshold: -1}
	s := openStore(t, dir, opts)
	keys := fill(t, s, 200)
	for _, k := range keys[:100] {
		s.Delete(k)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	fault.SetSpace(5000)
	wantNoSpace(t, s.Compact())
	checkAll(t, s, keys, keys[:100]...)
	fault.SetSpace(-1)
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	checkAll(t, s, keys, keys[:100]...)
	s.Close()
	s = openStore(t, dir, opts)
	checkAll(t, s, keys, keys[:100]...)
}
