package disk_test

import (
	"io/fs"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tiermem/tiermem/internal/vfs"
	"github.com/tiermem/tiermem/tier/disk"
)

// holdFS is the OS file system whose next file Sync, once armed, waits
// until released, and whose file Syncs fail with ENOSPC while fail is set.
type holdFS struct {
	vfs.FS
	mu      sync.Mutex
	hold    chan struct{}
	entered chan struct{}
	fail    atomic.Bool
}

// arm makes the next file Sync close entered and wait for release, which
// may be called more than once.
func (f *holdFS) arm() (entered chan struct{}, release func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hold, f.entered = make(chan struct{}), make(chan struct{})
	h := f.hold
	var once sync.Once
	return f.entered, func() { once.Do(func() { close(h) }) }
}

func (f *holdFS) wrap(file vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return &holdFile{File: file, fs: f}, nil
}

func (f *holdFS) Create(name string) (vfs.File, error) { return f.wrap(f.FS.Create(name)) }
func (f *holdFS) Open(name string) (vfs.File, error)   { return f.wrap(f.FS.Open(name)) }
func (f *holdFS) OpenReadWrite(name string) (vfs.File, error) {
	return f.wrap(f.FS.OpenReadWrite(name))
}

type holdFile struct {
	vfs.File
	fs *holdFS
}

func (h *holdFile) Sync() error {
	h.fs.mu.Lock()
	hold, entered := h.fs.hold, h.fs.entered
	h.fs.hold, h.fs.entered = nil, nil
	h.fs.mu.Unlock()
	if hold != nil {
		close(entered)
		<-hold
	}
	if h.fs.fail.Load() {
		return &fs.PathError{Op: "fdatasync", Path: "segment", Err: syscall.ENOSPC}
	}
	return h.File.Sync()
}

// TestSetSyncNoneLeavesNoDebt: SetSync(SyncNone) clears the sync debt
// ("owed no more under SyncNone"); a background sync of the old SyncEvery
// mode in flight meanwhile, which fails after SetSync returned, must not
// set it again, or every later Put under SyncNone would try to pay it with
// a full sync and fail because an fsync does.
func TestSetSyncNoneLeavesNoDebt(t *testing.T) {
	hfs := &holdFS{FS: vfs.Default}
	s := openStore(t, "", &disk.Options{Sync: disk.SyncEvery(5 * time.Millisecond), CompactThreshold: -1, FS: hfs})
	entered, release := hfs.arm()
	mustPut(t, s, "a", []byte("v"), nil) // dirty: the flusher's next tick syncs it
	select {
	case <-entered: // the flusher's periodic sync (of SyncEvery) is in its fsync
	case <-time.After(time.Minute):
		t.Fatal("no background fsync within a minute")
	}
	hfs.fail.Store(true) // fsyncs now fail (a full disk, as some file systems report at fsync)
	if err := s.SetSync(disk.SyncNone); err != nil {
		t.Fatalf("SetSync(SyncNone) = %v", err)
	}
	release() // the old mode's sync fails after SetSync returned
	deadline := time.Now().Add(time.Minute)
	for s.Stats().BackgroundErrors == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if _, err := s.Put("b", []byte("v"), nil); err != nil {
		t.Fatalf("a Put under SyncNone, after SetSync(SyncNone) returned, fails for an fsync: %v", err)
	}
}
