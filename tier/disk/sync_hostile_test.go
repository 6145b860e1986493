package disk_test

import (
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem/internal/vfs"
	"github.com/tiermem/tiermem/tier/disk"
)

// holdSyncFS is the OS file system whose next file Sync, once armed,
// waits until released: an fsync that takes its time.
type holdSyncFS struct {
	vfs.FS
	mu      sync.Mutex
	hold    chan struct{}
	entered chan struct{}
}

func (f *holdSyncFS) arm() (entered chan struct{}, release func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hold, f.entered = make(chan struct{}), make(chan struct{})
	h := f.hold
	var once sync.Once
	return f.entered, func() { once.Do(func() { close(h) }) }
}

func (f *holdSyncFS) wrap(file vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return &holdSyncFile{File: file, fs: f}, nil
}

func (f *holdSyncFS) Create(name string) (vfs.File, error) { return f.wrap(f.FS.Create(name)) }
func (f *holdSyncFS) Open(name string) (vfs.File, error)   { return f.wrap(f.FS.Open(name)) }
func (f *holdSyncFS) OpenReadWrite(name string) (vfs.File, error) {
	return f.wrap(f.FS.OpenReadWrite(name))
}

type holdSyncFile struct {
	vfs.File
	fs *holdSyncFS
}

func (h *holdSyncFile) Sync() error {
	h.fs.mu.Lock()
	hold, entered := h.fs.hold, h.fs.entered
	h.fs.hold, h.fs.entered = nil, nil
	h.fs.mu.Unlock()
	if hold != nil {
		close(entered)
		<-hold
	}
	return h.File.Sync()
}

// TestHostileColdSyncWaitsForTheFsyncInFlight: "Sync makes every Put and
// Delete that returned before it durable". A Put under SyncNone, then two
// Syncs: the first writes the record and starts the segment's fsync (slow
// here); the second finds the segment's dirty flag already cleared by the
// first and returns nil at once, while no fsync covering the record has
// completed (and the one in flight may yet fail). The same early return
// lets compaction retire its inputs (compactLocked's syncAll), SetSync
// switch to a stricter mode, and a SyncEvery payDebt succeed before the
// records they vouch for are on disk.
func TestHostileColdSyncWaitsForTheFsyncInFlight(t *testing.T) {
	fs := &holdSyncFS{FS: vfs.Default}
	s := openStore(t, t.TempDir(), &disk.Options{FS: fs, Sync: disk.SyncNone, CompactThreshold: -1})
	mustPut(t, s, "k", []byte("acknowledged, buffered"), nil)
	entered, release := fs.arm()
	defer release()
	first := make(chan error, 1)
	go func() { first <- s.Sync() }()
	<-entered // the first Sync wrote the record and is inside the segment's fsync
	second := make(chan error, 1)
	go func() { second <- s.Sync() }()
	select {
	case err := <-second:
		t.Errorf("Sync returned %v while the only fsync of the segment holding the Put was still in flight", err)
	case <-time.After(300 * time.Millisecond):
		release()
		if err := <-second; err != nil {
			t.Error(err)
		}
	}
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
}
