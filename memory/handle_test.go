package memory_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem/memory"
)

func TestUseAfterCloseIsAnErrorForEveryView(t *testing.T) {
	h, err := memory.Allocate(1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	w := h.Writable()
	region := w.Region(100, 50).ReadOnly().Region(10, 8).WithOrder(memory.BigEndian)
	buf := w.Buffer()
	w.PutInt64(110, 5)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func(){
		"get":     func() { w.GetInt64(0) },
		"put":     func() { w.PutInt64(0, 1) },
		"region":  func() { region.GetInt64(0) },
		"buffer":  func() { buf.GetInt32() },
		"bytes":   func() { w.Bytes(0, 1) },
		"hash":    func() { w.Hash(0, 10) },
		"copy":    func() { memory.Copy(w, 0, w.ReadOnly(), 8, 8) },
		"fill":    func() { w.Fill(0, 10, 1) },
		"array":   func() { w.GetInt64s(0, make([]int64, 2)) },
		"compare": func() { w.Compare(0, 1, w.ReadOnly(), 1, 1) },
	} {
		t.Run(name, func(t *testing.T) { mustPanic(t, memory.ErrClosed, f) })
	}
	if w.IsValid() || region.IsValid() {
		t.Error("views of closed memory report valid")
	}
	if err := h.Close(); !errors.Is(err, memory.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	if err := h.Load(); !errors.Is(err, memory.ErrClosed) {
		t.Errorf("Load after Close = %v, want ErrClosed", err)
	}
}

func TestAllocateRejectsBadSizes(t *testing.T) {
	for _, size := range []int64{0, -1} {
		if _, err := memory.Allocate(size); !errors.Is(err, memory.ErrInvalidSize) {
			t.Errorf("Allocate(%d) = %v, want ErrInvalidSize", size, err)
		}
	}
}

func TestStatsCountOffHeapMemory(t *testing.T) {
	before := memory.ReadStats()
	h, err := memory.Allocate(3 << 20)
	if err != nil {
		t.Fatal(err)
	}
	during := memory.ReadStats()
	h.Close()
	after := memory.ReadStats()
	if during.OffHeapBytes-before.OffHeapBytes != 3<<20 || during.OffHeapBlocks-before.OffHeapBlocks != 1 {
		t.Errorf("while allocated: %+v, before: %+v", during, before)
	}
	if after.OffHeapBytes != before.OffHeapBytes {
		t.Errorf("after Close: %d bytes, want %d", after.OffHeapBytes, before.OffHeapBytes)
	}
}

// writeFile creates a file of n bytes where byte i is i*7+3 mod 251.
func writeFile(t *testing.T, n int) (string, []byte) {
	t.Helper()
	data := make([]byte, n)
	for i := range data {
		data[i] = byte((i*7 + 3) % 251)
	}
	path := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, data
}

func TestMapAtUnalignedOffsets(t *testing.T) {
	page := int64(os.Getpagesize())
	path, data := writeFile(t, int(4*page))
	for _, off := range []int64{0, 1, 7, page - 1, page, page + 1, 2*page + 13, 4*page - 8} {
		h, err := memory.Map(path, off, 8)
		if err != nil {
			t.Fatalf("Map at %d: %v", off, err)
		}
		m := h.Memory()
		got := make([]byte, 8)
		m.GetBytes(0, got)
		if !bytes.Equal(got, data[off:off+8]) {
			t.Errorf("Map at offset %d read % x, want % x", off, got, data[off:off+8])
		}
		if m.IsWritable() {
			t.Error("read-only mapping reports writable")
		}
		mustPanic(t, memory.ErrOutOfRange, func() { m.GetUint8(8) })
		h.Close()
	}
}

func TestMapToEndOfFile(t *testing.T) {
	path, data := writeFile(t, 10000)
	h, err := memory.Map(path, 4097, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if h.Size() != 10000-4097 {
		t.Fatalf("size %d, want %d", h.Size(), 10000-4097)
	}
	if !bytes.Equal(h.Memory().Bytes(0, h.Size()), data[4097:]) {
		t.Error("mapping to the end of the file reads other bytes")
	}
}

func TestMapErrors(t *testing.T) {
	path, _ := writeFile(t, 100)
	if _, err := memory.Map(path, 50, 51); !errors.Is(err, memory.ErrInvalidSize) {
		t.Errorf("read-only map past the end = %v, want ErrInvalidSize", err)
	}
	if _, err := memory.Map(path, 101, 0); !errors.Is(err, memory.ErrInvalidSize) {
		t.Errorf("map from past the end = %v, want ErrInvalidSize", err)
	}
	if _, err := memory.Map(path, -1, 1); !errors.Is(err, memory.ErrInvalidSize) {
		t.Errorf("negative offset = %v, want ErrInvalidSize", err)
	}
	if _, err := memory.Map(filepath.Join(t.TempDir(), "missing"), 0, 0); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file = %v, want os.ErrNotExist", err)
	}
}

func TestMapWritableExtendsAndForces(t *testing.T) {
	path, data := writeFile(t, 5000)
	h, err := memory.MapWritable(path, 4999, 10) // ends 9 bytes past the file
	if err != nil {
		t.Fatal(err)
	}
	w := h.Writable()
	if w.GetUint8(0) != data[4999] || w.GetUint8(9) != 0 {
		t.Error("extended mapping does not hold the old last byte followed by zeros")
	}
	w.PutUint64(1, 0x1122334455667788)
	if err := h.Force(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5009 || got[5000] != 0x88 || got[5007] != 0x11 {
		t.Errorf("file after Force: %d bytes, tail % x", len(got), got[4999:])
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Force(); !errors.Is(err, memory.ErrClosed) {
		t.Errorf("Force after Close = %v", err)
	}
}

// TestTwoMappingsShareWrites: a writable mapping and a read-only mapping of
// the same file see the same bytes, as two processes would.
func TestTwoMappingsShareWrites(t *testing.T) {
	path, _ := writeFile(t, 8192)
	wh, err := memory.MapWritable(path, 100, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	rh, err := memory.Map(path, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rh.Close()
	wh.Writable().PutInt64(5, 42)
	if got := rh.Memory().GetInt64(105); got != 42 {
		t.Errorf("the other mapping reads %d, want 42", got)
	}
}

// TestLoadMapOver2GiB maps a sparse file larger than 2 GiB (where the Java
// original overflowed) and loads all of it.
func TestLoadMapOver2GiB(t *testing.T) {
	if testing.Short() {
		t.Skip("maps 2 GiB")
	}
	const size = 2<<30 + 3*4096 + 5
	path := filepath.Join(t.TempDir(), "big")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("tail"), size-4); err != nil {
		t.Fatal(err)
	}
	f.Close()
	h, err := memory.Map(path, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.Load(); err != nil {
		t.Fatal(err)
	}
	loaded, err := h.IsLoaded()
	if err != nil || !loaded {
		t.Errorf("IsLoaded after Load = %v, %v; want true", loaded, err)
	}
	m := h.Memory()
	if got := string(m.Bytes(m.Size()-4, 4)); got != "tail" {
		t.Errorf("last bytes %q, want \"tail\"", got)
	}
	if m.GetUint64(1<<31+100) != 0 {
		t.Error("a hole past 2 GiB does not read as zero")
	}
}

func TestLeakedHandleIsReported(t *testing.T) {
	leaks := make(chan memory.Leak, 1)
	memory.SetLeakReporter(func(l memory.Leak) {
		select {
		case leaks <- l:
		default:
		}
	})
	defer memory.SetLeakReporter(nil)
	func() {
		if _, err := memory.Allocate(12345); err != nil {
			t.Fatal(err)
		}
	}()
	deadline := time.After(10 * time.Second)
	for {
		runtime.GC()
		select {
		case l := <-leaks:
			if l.Size != 12345 || !strings.HasPrefix(filepath.Base(l.Where), "handle_test.go:") {
				t.Errorf("leak report %+v", l)
			}
			return
		case <-deadline:
			t.Fatal("no leak reported for a handle collected without Close")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestDiscardZeroesWholePages(t *testing.T) {
	page := int64(os.Getpagesize())
	h, err := memory.Allocate(4 * page)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	w := h.Writable()
	w.Fill(0, 4*page, 0xff)
	if err := h.Discard(page-1, 2*page+2); err != nil { // covers pages 1 and 2 whole
		t.Fatal(err)
	}
	for _, c := range []struct {
		off  int64
		want byte
	}{{page - 1, 0xff}, {page, 0}, {3*page - 1, 0}, {3 * page, 0xff}} {
		if got := w.GetUint8(c.off); got != c.want {
			t.Errorf("byte %d = %#x after Discard, want %#x", c.off, got, c.want)
		}
	}
	if err := h.Discard(0, 5*page); !errors.Is(err, memory.ErrInvalidSize) {
		t.Errorf("Discard past the end = %v", err)
	}
}

func TestReserveMoreThanTheMachineHas(t *testing.T) {
	h, err := memory.Reserve(64 << 40) // 64 TiB of address space
	if err != nil {
		t.Skipf("this system refuses even a reservation: %v", err)
	}
	defer h.Close()
	w := h.Writable()
	w.PutInt64(40<<40, 7) // one page of RAM
	if w.GetInt64(40<<40) != 7 {
		t.Error("a write into reserved memory did not stick")
	}
}

// TestReleaseKeepsTheFilesBytes checks that Release drops a file mapping's
// pages from the process without changing what its views read, and that
// anonymous memory, whose bytes it would lose, is refused.
func TestReleaseKeepsTheFilesBytes(t *testing.T) {
	page := int64(os.Getpagesize())
	path := filepath.Join(t.TempDir(), "f")
	want := make([]byte, 8*page)
	for i := range want {
		want[i] = byte(i * 7)
	}
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := memory.Map(path, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	m := h.Memory()
	view := m.Bytes(0, 8*page)
	if err := h.Load(); err != nil {
		t.Fatal(err)
	}
	if err := h.Release(page/2, 6*page); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(view, want) {
		t.Fatal("a view read other bytes after Release")
	}
	if err := h.Release(0, 9*page); !errors.Is(err, memory.ErrInvalidSize) {
		t.Errorf("Release past the end = %v, want ErrInvalidSize", err)
	}
	a, err := memory.Allocate(page)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Release(0, page); !errors.Is(err, memory.ErrNotFile) {
		t.Errorf("Release of anonymous memory = %v, want ErrNotFile", err)
	}
}
