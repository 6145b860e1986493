package vfs_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/tiermem/tiermem/internal/vfs"
)

func mustCreate(t *testing.T, fs vfs.FS, name string) vfs.File {
	t.Helper()
	f, err := fs.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestOSFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	fs := vfs.Default
	name := filepath.Join(dir, "a")
	f := mustCreate(t, fs, name)
	if _, err := f.WriteAt([]byte("hello world"), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(5); err != nil {
		t.Fatal(err)
	}
	if n, err := f.Size(); n != 5 || err != nil {
		t.Fatalf("Size = %d, %v; want 5", n, err)
	}
	if err := fs.Rename(name, filepath.Join(dir, "b")); err != nil {
		t.Fatal(err)
	}
	if err := fs.SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	r, err := fs.Open(filepath.Join(dir, "b"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := make([]byte, 5)
	if _, err := r.ReadAt(got, 0); err != nil || string(got) != "hello" {
		t.Fatalf("ReadAt = %q, %v", got, err)
	}
	names, err := fs.ReadDir(dir)
	if err != nil || !slices.Equal(names, []string{"b"}) {
		t.Fatalf("ReadDir = %v, %v", names, err)
	}
}

func TestOSOpenReadWriteAndRemove(t *testing.T) {
	dir := t.TempDir()
	fs := vfs.Default
	name := filepath.Join(dir, "sub", "a")
	if err := fs.MkdirAll(filepath.Dir(name)); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.OpenReadWrite(name); err == nil {
		t.Fatal("OpenReadWrite of a missing file succeeded")
	}
	mustCreate(t, fs, name)
	f, err := fs.OpenReadWrite(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("x"), 3); err != nil {
		t.Fatal(err)
	}
	if n, _ := f.Size(); n != 4 {
		t.Fatalf("Size after a write at 3 = %d, want 4", n)
	}
	if err := fs.Remove(name); err != nil {
		t.Fatal(err)
	}
}

func TestLockIsExclusive(t *testing.T) {
	name := filepath.Join(t.TempDir(), "LOCK")
	l, err := vfs.Default.Lock(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vfs.Default.Lock(name); !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatalf("second Lock = %v, want EWOULDBLOCK", err)
	}
	l.Close()
	l, err = vfs.Default.Lock(name)
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	l.Close()
}

func TestFaultSpace(t *testing.T) {
	fault := vfs.NewFault(vfs.Default)
	f := mustCreate(t, fault, filepath.Join(t.TempDir(), "a"))
	fault.SetSpace(10)
	if _, err := f.WriteAt([]byte("0123456"), 0); err != nil {
		t.Fatal(err)
	}
	n, err := f.WriteAt([]byte("789abc"), 7)
	if n != 3 || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write across the limit = %d, %v; want 3, ENOSPC", n, err)
	}
	if _, err := f.WriteAt([]byte("x"), 10); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write on a full disk = %v, want ENOSPC", err)
	}
	fault.SetSpace(-1) // space returns
	if _, err := f.WriteAt([]byte("abc"), 10); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 13)
	f.ReadAt(got, 0)
	if !bytes.Equal(got, []byte("0123456789abc")) {
		t.Fatalf("file holds %q", got)
	}
}

func TestFaultWritesAndSyncs(t *testing.T) {
	fault := vfs.NewFault(vfs.Default)
	dir := t.TempDir()
	f := mustCreate(t, fault, filepath.Join(dir, "a"))
	fault.FailWrites(syscall.EIO)
	if n, err := f.WriteAt([]byte("x"), 0); n != 0 || !errors.Is(err, syscall.EIO) {
		t.Fatalf("failing write = %d, %v", n, err)
	}
	fault.FailWrites(nil)
	fault.FailSyncs(syscall.EIO)
	if err := f.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("failing Sync = %v", err)
	}
	if err := fault.SyncDir(dir); !errors.Is(err, syscall.EIO) {
		t.Fatalf("failing SyncDir = %v", err)
	}
	fault.FailSyncs(nil)
	if _, err := f.WriteAt([]byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

func TestFaultPassesThrough(t *testing.T) {
	fault := vfs.NewFault(vfs.Default)
	dir := t.TempDir()
	name := filepath.Join(dir, "a")
	mustCreate(t, fault, name)
	if err := fault.Rename(name, name+"2"); err != nil {
		t.Fatal(err)
	}
	if err := fault.MkdirAll(filepath.Join(dir, "d")); err != nil {
		t.Fatal(err)
	}
	names, _ := fault.ReadDir(dir)
	if !slices.Equal(names, []string{"a2", "d"}) {
		t.Fatalf("ReadDir = %v", names)
	}
	for _, open := range []func(string) (vfs.File, error){fault.Open, fault.OpenReadWrite} {
		f, err := open(name + "2")
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	l, err := fault.Lock(filepath.Join(dir, "LOCK"))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if err := fault.Remove(name + "2"); err != nil {
		t.Fatal(err)
	}
}
