package memory_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/tiermem/tiermem/memory"
)

// A writable mapping of an existing empty file (size 0 maps to its end) is
// a valid, empty handle; Force has nothing to write and must succeed.
func TestHostileForceOnEmptyWritableMapping(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := memory.MapWritable(path, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if h.Size() != 0 {
		t.Fatalf("Size = %d, want 0", h.Size())
	}
	if err := h.Force(); err != nil {
		t.Errorf("Force of an empty writable mapping: %v, want nil", err)
	}
}

// MapWritable that fails must not leave behind a file it created: a caller
// that gets an error has nothing to clean up.
func TestHostileFailedMapWritableLeavesNoFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing")
	h, err := memory.MapWritable(path, 10, 0) // offset past the end of a new (empty) file
	if err == nil {
		h.Close()
		t.Fatal("MapWritable at offset 10 of a missing file with size 0 succeeded")
	}
	if !errors.Is(err, memory.ErrInvalidSize) {
		t.Errorf("error %v does not wrap ErrInvalidSize", err)
	}
	if _, statErr := os.Stat(path); statErr == nil {
		t.Errorf("MapWritable failed (%v) but created %s", err, path)
	}
}

// IsLoaded on a large reservation (Reserve is for address space far larger
// than what is used) must not allocate Go memory in proportion to the
// reservation (1 TiB would need a 256 MiB residency vector at once, 64 TiB
// 16 GiB and an out-of-memory crash): it asks a window at a time.
func TestHostileIsLoadedOnLargeReservationIsBounded(t *testing.T) {
	h, err := memory.Reserve(1 << 40)
	if err != nil {
		t.Skipf("cannot reserve 1 TiB here: %v", err)
	}
	defer h.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	loaded, err := h.IsLoaded()
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if loaded {
		t.Error("an untouched 1 TiB reservation reported loaded")
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Errorf("IsLoaded of a 1 TiB reservation allocated %d MiB of Go heap", grew>>20)
	}
}

// Populate of a writable file mapping whose file another process truncated
// cannot fault the pages past the new end: it returns ErrFault, as Load
// does for that case, not a bare "bad address" that a caller cannot tell
// from any other failure.
func TestHostilePopulateOfTruncatedFileIsErrFault(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	h, err := memory.MapWritable(path, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := os.Truncate(path, 4096); err != nil {
		t.Fatal(err)
	}
	err = h.Populate(0, 1<<20)
	if !errors.Is(err, memory.ErrFault) {
		t.Errorf("Populate over a truncated file: %v, want an error wrapping ErrFault", err)
	}
}

// IsValid exists to ask whether the owner has closed the memory; it reads
// no bytes of it, so a goroutine that polls it while another closes the
// handle is not an access that Close must wait for: it reads the block's
// atomic closed flag, never the base pointer Close clears (a data race
// under -race).
func TestHostileIsValidConcurrentWithClose(t *testing.T) {
	h, err := memory.Allocate(1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	view := h.Memory().Region(8, 8)
	started := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		close(started)
		for view.IsValid() {
			runtime.Gosched()
		}
	}()
	<-started
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	<-done
}
