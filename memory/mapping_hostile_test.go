package memory_test

import (
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem/internal/childtest"
	"github.com/tiermem/tiermem/memory"
)

// hostileChild is the environment variable that makes a hostile test run its
// child half (in a process of its own, so that a crash is observed, not
// suffered).
const hostileChild = "MEMORY_HOSTILE_CHILD"

// Offsets and lengths near the ends of int64 must panic with an
// *AccessError wrapping ErrOutOfRange, for every kind of access.
func TestHostileHugeOffsets(t *testing.T) {
	for name, w := range backings(t, 64) {
		m := w.ReadOnly()
		for _, off := range []int64{math.MaxInt64, math.MaxInt64 - 7, math.MinInt64, -1, 65, 1 << 62} {
			for _, n := range []int64{1, 8, math.MaxInt64, math.MaxInt64 - 1, -1, math.MinInt64} {
				mustPanic(t, memory.ErrOutOfRange, func() { m.Bytes(off, n) })
				mustPanic(t, memory.ErrOutOfRange, func() { m.Region(off, n) })
				mustPanic(t, memory.ErrOutOfRange, func() { memory.Copy(w, 0, m, off, n) })
				mustPanic(t, memory.ErrOutOfRange, func() { memory.Copy(w, off, m, 0, n) })
				mustPanic(t, memory.ErrOutOfRange, func() { m.Hash(off, n) })
				mustPanic(t, memory.ErrOutOfRange, func() { w.Fill(off, n, 1) })
				mustPanic(t, memory.ErrOutOfRange, func() { m.Compare(off, n, m, 0, 1) })
				mustPanic(t, memory.ErrOutOfRange, func() { memory.Slice[uint64](m, off, n) })
				mustPanic(t, memory.ErrOutOfRange, func() { m.HexDump(off, n) })
			}
			mustPanic(t, memory.ErrOutOfRange, func() { m.GetInt64(off) })
			mustPanic(t, memory.ErrOutOfRange, func() { m.GetComplex128(off) })
			mustPanic(t, memory.ErrOutOfRange, func() { w.PutComplex128(off, 1) })
			if off != 65 { // bit 65 is in byte 8
				mustPanic(t, memory.ErrOutOfRange, func() { m.Bit(off) })
			}
			mustPanic(t, memory.ErrOutOfRange, func() { m.Bit(512) })
			mustPanic(t, memory.ErrOutOfRange, func() { m.GetInt64s(off, make([]int64, 1)) })
		}
		_ = name
		buf := m.Buffer()
		mustPanic(t, memory.ErrOutOfRange, func() { buf.Skip(math.MaxInt64) })
		buf.Skip(8)
		mustPanic(t, memory.ErrOutOfRange, func() { buf.Skip(math.MaxInt64) })
		mustPanic(t, memory.ErrOutOfRange, func() { buf.SetBounds(0, 0, math.MaxInt64) })
	}
}

// Zero-length regions of every kind are valid and empty.
func TestHostileZeroLength(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := memory.Map(empty, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if h.Size() != 0 || h.Memory().Size() != 0 {
		t.Fatalf("size %d", h.Size())
	}
	if err := h.Load(); err != nil {
		t.Errorf("Load of an empty mapping: %v", err)
	}
	if _, err := h.IsLoaded(); err != nil {
		t.Fatalf("IsLoaded of an empty mapping: %v", err)
	}
	if err := h.Release(0, 0); err != nil {
		t.Fatalf("Release(0,0): %v", err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); !errors.Is(err, memory.ErrClosed) {
		t.Fatalf("second Close = %v, want ErrClosed", err)
	}
	if _, err := memory.Allocate(0); !errors.Is(err, memory.ErrInvalidSize) {
		t.Fatalf("Allocate(0) = %v, want ErrInvalidSize", err)
	}
	if _, err := memory.Map(empty, 1, 0); !errors.Is(err, memory.ErrInvalidSize) {
		t.Fatalf("Map past the end = %v, want ErrInvalidSize", err)
	}
	wh, err := memory.MapWritable(filepath.Join(dir, "new"), 0, 0)
	if err != nil {
		t.Fatalf("MapWritable of a new file, size 0: %v", err)
	}
	wh.Close()
	var z memory.Memory
	if s, err := memory.Slice[uint32](z, 0, 0); err != nil || len(s) != 0 {
		t.Fatalf("Slice of zero memory = %v, %v", s, err)
	}
	if len(z.Bytes(0, 0)) != 0 || z.Hash(0, 0) != 0xef46db3751d8e999 {
		t.Fatal("zero memory")
	}
}

// Map and MapWritable take an offset and a size whose sum overflows int64:
// that is an invalid size (ErrInvalidSize), not an mmap failure.
func TestHostileMapOffsetPlusSizeOverflow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ off, size int64 }{{1 << 62, 1 << 62}, {1, math.MaxInt64}, {math.MaxInt64, math.MaxInt64}} {
		h, err := memory.Map(path, c.off, c.size)
		if err == nil {
			h.Close()
		}
		if !errors.Is(err, memory.ErrInvalidSize) {
			t.Errorf("Map(off %d, size %d) = %v, want ErrInvalidSize", c.off, c.size, err)
		}
		wh, err := memory.MapWritable(path, c.off, c.size)
		if err == nil {
			wh.Close()
		}
		if !errors.Is(err, memory.ErrInvalidSize) {
			t.Errorf("MapWritable(off %d, size %d) = %v, want ErrInvalidSize", c.off, c.size, err)
		}
	}
}

// A Handle is documented as safe for concurrent use; only accesses through
// views must not race with Close. Load, IsLoaded and Release are Handle
// methods: concurrent with Close they must return ErrClosed, not race on the
// block's mapping or touch unmapped memory. Run in a child process, since
// touching unmapped memory kills it.
func TestHostileHandleMethodsConcurrentWithClose(t *testing.T) {
	if os.Getenv(hostileChild) == "handle-close" {
		path := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(path, make([]byte, 8<<20), 0o644); err != nil {
			t.Fatal(err)
		}
		for range 30 {
			h, err := memory.Map(path, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					for range 50 {
						for _, err := range []error{h.Load(), h.Release(0, h.Size())} {
							if err != nil && !errors.Is(err, memory.ErrClosed) {
								t.Errorf("error %v, want nil or ErrClosed", err)
							}
						}
						if _, err := h.IsLoaded(); err != nil && !errors.Is(err, memory.ErrClosed) {
							t.Errorf("IsLoaded error %v", err)
						}
					}
				}()
			}
			close(start)
			time.Sleep(time.Millisecond)
			h.Close()
			wg.Wait()
		}
		return
	}
	if os.Getenv(hostileChild) != "" {
		t.Skip("child of another test")
	}
	out, err := childtest.Run("TestHostileHandleMethodsConcurrentWithClose", hostileChild, "handle-close")
	if err != nil {
		t.Fatalf("child failed (%v):\n%s", err, tail(out, 40))
	}
}

// Grow of a view that was already grown (a stale view) must return an error
// and must not leak the off-heap memory it requested for the move.
func TestHostileGrowStaleViewLeaks(t *testing.T) {
	s := memory.NewOffHeapServer()
	before := memory.ReadStats().OffHeapBlocks
	w, err := s.Request(memory.WritableMemory{}, 4096)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := memory.Grow(w, 8192); err != nil {
		t.Fatal(err)
	}
	var gerr error
	panicked := func() (p any) {
		defer func() { p = recover() }()
		_, gerr = memory.Grow(w, 8192) // w was released by the first Grow
		return nil
	}()
	if panicked != nil {
		t.Errorf("Grow of a stale view panicked (%v), want an error such as ErrNotOwner", panicked)
	} else if gerr == nil {
		t.Errorf("Grow of a stale view succeeded")
	}
	s.Close()
	if after := memory.ReadStats().OffHeapBlocks; after != before {
		t.Errorf("after the server's Close, %d off-heap blocks are still mapped (before: %d): the block Request made for the stale Grow leaked", after, before)
	}
}

// A file mapped read-only and then truncated by another process: Load, an
// I/O operation that returns errors, returns ErrFault rather than kill the
// process (SIGBUS). A view's access to such a page is documented fatal.
func TestHostileMappedFileTruncated(t *testing.T) {
	switch os.Getenv(hostileChild) {
	case "truncate-load":
		path := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(path, make([]byte, 1<<20), 0o644); err != nil {
			t.Fatal(err)
		}
		h, err := memory.Map(path, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		if err := os.Truncate(path, 4096); err != nil { // "another process"
			t.Fatal(err)
		}
		if err := h.Load(); !errors.Is(err, memory.ErrFault) {
			t.Errorf("Load of a mapping whose file was truncated: %v, want ErrFault", err)
		}
		return
	case "":
	default:
		t.Skip("child of another test")
	}
	for _, mode := range []string{"truncate-load"} {
		out, err := childtest.Run("TestHostileMappedFileTruncated", hostileChild, mode)
		if err != nil {
			t.Errorf("%s: the process died (%v):\n%s", mode, err, tail(out, 6))
		}
	}
}

// An Open of a FIFO must not block forever.
func TestHostileMapFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	if err := mkfifo(path); err != nil {
		t.Skip(err)
	}
	done := make(chan error, 1)
	go func() {
		h, err := memory.Map(path, 0, 0)
		if err == nil {
			h.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Map of a FIFO succeeded")
		}
	case <-time.After(3 * time.Second):
		// unblock the goroutine
		f, _ := os.OpenFile(path, os.O_WRONLY, 0)
		if f != nil {
			f.Close()
		}
		<-done
		t.Error("Map of a FIFO blocked for 3 s (open O_RDONLY on a FIFO waits for a writer)")
	}
}

func mkfifo(path string) error {
	return exec.Command("mkfifo", path).Run()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// MapWritable extends a file on a full file system: the error must come
// from MapWritable (or Populate), not as a SIGBUS on the first write.
func TestHostileMapWritableFullDisk(t *testing.T) {
	if dir := os.Getenv(hostileChild); strings.HasPrefix(dir, "fulldisk:") {
		dir = strings.TrimPrefix(dir, "fulldisk:")
		h, err := memory.MapWritable(filepath.Join(dir, "f"), 0, 4<<20)
		if err != nil {
			t.Logf("MapWritable: %v (refused: fine)", err)
			return
		}
		defer h.Close()
		w := h.Writable()
		for off := int64(0); off < w.Size(); off += 4096 {
			w.PutInt64(off, off)
		}
		t.Log("wrote 4 MiB into a 1 MiB file system")
		return
	} else if os.Getenv(hostileChild) != "" {
		t.Skip("child of another test")
	}
	dir := t.TempDir()
	if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).Run(); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	defer exec.Command("umount", dir).Run()
	out, err := childtest.Run("TestHostileMapWritableFullDisk", hostileChild, "fulldisk:"+dir)
	if err != nil {
		t.Errorf("the process died (%v):\n%s", err, tail(out, 5))
	}
}

// A RequestServer (or Allocate) asked for more memory than exists returns
// an error: "operations that allocate return errors". Child process, since
// the Go heap's out-of-memory is fatal.
func TestHostileHugeRequest(t *testing.T) {
	if mode := os.Getenv(hostileChild); strings.HasPrefix(mode, "huge-") {
		var size int64 = 1 << 62
		if mode == "huge-heap-44" {
			size = 1 << 44
		}
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("Request(%d) panicked: %v", size, r)
				}
			}()
			switch mode {
			case "huge-offheap":
				_, err = memory.NewOffHeapServer().Request(memory.WritableMemory{}, size)
			case "huge-allocate":
				var h *memory.WritableHandle
				h, err = memory.Allocate(size)
				if err == nil {
					h.Close()
				}
			default:
				_, err = memory.NewHeapServer().Request(memory.WritableMemory{}, size)
			}
		}()
		t.Logf("%s: err = %v", mode, err)
		return
	} else if mode != "" {
		t.Skip("child of another test")
	}
	for _, mode := range []string{"huge-heap-62", "huge-heap-44", "huge-offheap", "huge-allocate"} {
		out, err := childtest.Run("TestHostileHugeRequest", hostileChild, mode)
		if err != nil {
			t.Errorf("%s: child failed (%v):\n%s", mode, err, tail(out, 6))
		}
	}
}
