package vfs

import (
	"io"
	"io/fs"
	"os"
	"sync"
	"syscall"
)

// Fault is an FS that passes every call to another FS and injects failures
// on demand: a disk that fills up after a number of bytes, writes that fail
// with a chosen error, syncs that fail. It is how the stores' disk-full and
// I/O-error tests run without root or a small tmpfs.
//
// Space is a budget of bytes that writes may still store: every byte
// written counts, wherever it lands; Truncate and Remove give nothing back
// (call SetSpace again to let space return). A write that crosses the budget
// stores the bytes that fit and fails with ENOSPC, as a real full disk
// does.
//
// A Fault is safe for concurrent use. Its zero value is not usable; call
// [NewFault].
type Fault struct {
	fs FS

	mu       sync.Mutex // protects the fields below
	space    int64      // bytes writes may still store; negative: unlimited
	writeErr error      // returned by every write while non-nil
	syncErr  error      // returned by every Sync and SyncDir while non-nil
}

// NewFault returns a Fault over fs with unlimited space and no failures.
func NewFault(fs FS) *Fault { return &Fault{fs: fs, space: -1} }

// SetSpace lets writes store n more bytes, then fail with ENOSPC. A negative
// n makes space unlimited again.
func (f *Fault) SetSpace(n int64) {
	f.mu.Lock()
	f.space = n
	f.mu.Unlock()
}

// FailWrites makes every write fail with err, storing nothing, until
// FailWrites(nil).
func (f *Fault) FailWrites(err error) {
	f.mu.Lock()
	f.writeErr = err
	f.mu.Unlock()
}

// FailSyncs makes every Sync and SyncDir fail with err until FailSyncs(nil).
func (f *Fault) FailSyncs(err error) {
	f.mu.Lock()
	f.syncErr = err
	f.mu.Unlock()
}

// allow returns how many of n bytes a write to name may store, and the
// error the write then returns (nil when all n fit).
func (f *Fault) allow(name string, n int) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.writeErr != nil {
		return 0, &fs.PathError{Op: "write", Path: name, Err: f.writeErr}
	}
	if f.space < 0 {
		return n, nil
	}
	if int64(n) <= f.space {
		f.space -= int64(n)
		return n, nil
	}
	fit := int(f.space)
	f.space = 0
	return fit, &fs.PathError{Op: "write", Path: name, Err: syscall.ENOSPC}
}

func (f *Fault) syncError(op, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.syncErr != nil {
		return &fs.PathError{Op: op, Path: name, Err: f.syncErr}
	}
	return nil
}

func (f *Fault) wrap(name string, file File, err error) (File, error) {
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f, name: name}, nil
}

// Create creates name in the underlying FS.
func (f *Fault) Create(name string) (File, error) {
	file, err := f.fs.Create(name)
	return f.wrap(name, file, err)
}

// CreateNew creates name in the underlying FS only if nothing is named
// name (O_EXCL), where the underlying FS can; else it checks the name
// first (Lstat) and creates it.
func (f *Fault) CreateNew(name string) (File, error) {
	if c, ok := f.fs.(interface{ CreateNew(string) (File, error) }); ok {
		file, err := c.CreateNew(name)
		return f.wrap(name, file, err)
	}
	if _, err := f.Lstat(name); err == nil {
		return nil, &fs.PathError{Op: "create", Path: name, Err: fs.ErrExist}
	}
	return f.Create(name)
}

// Lstat describes name in the underlying FS, without following a symbolic
// link, where it can, else in the operating system's.
func (f *Fault) Lstat(name string) (fs.FileInfo, error) {
	if l, ok := f.fs.(interface {
		Lstat(string) (fs.FileInfo, error)
	}); ok {
		return l.Lstat(name)
	}
	return os.Lstat(name)
}

// Open opens name for reading in the underlying FS.
func (f *Fault) Open(name string) (File, error) {
	file, err := f.fs.Open(name)
	return f.wrap(name, file, err)
}

// OpenReadWrite opens name for reading and writing in the underlying FS.
func (f *Fault) OpenReadWrite(name string) (File, error) {
	file, err := f.fs.OpenReadWrite(name)
	return f.wrap(name, file, err)
}

// Rename renames in the underlying FS.
func (f *Fault) Rename(oldname, newname string) error { return f.fs.Rename(oldname, newname) }

// Remove removes from the underlying FS.
func (f *Fault) Remove(name string) error { return f.fs.Remove(name) }

// ReadDir lists dir in the underlying FS.
func (f *Fault) ReadDir(dir string) ([]string, error) { return f.fs.ReadDir(dir) }

// MkdirAll creates dir in the underlying FS.
func (f *Fault) MkdirAll(dir string) error { return f.fs.MkdirAll(dir) }

// Lock locks name in the underlying FS.
func (f *Fault) Lock(name string) (io.Closer, error) { return f.fs.Lock(name) }

// SyncDir syncs dir unless syncs are failing.
func (f *Fault) SyncDir(dir string) error {
	if err := f.syncError("fsync", dir); err != nil {
		return err
	}
	return f.fs.SyncDir(dir)
}

// faultFile is a File whose writes and syncs go through its Fault.
type faultFile struct {
	File
	fs   *Fault
	name string
}

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	n, ferr := f.fs.allow(f.name, len(p))
	written, err := f.File.WriteAt(p[:n], off)
	if err == nil {
		err = ferr
	}
	return written, err
}

func (f *faultFile) Sync() error {
	if err := f.fs.syncError("fdatasync", f.name); err != nil {
		return err
	}
	return f.File.Sync()
}
