package memory_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tiermem/tiermem/memory"
)

// A MapWritable of a missing path that fails must remove nothing but what it
// made itself: another MapWritable of the same path that succeeded in the
// meantime keeps its file (everything written through it is there after
// Close), and one that races the failing call never sees "no such file or
// directory", since MapWritable creates a missing file. The failing calls
// leave no temporary file behind either.
func TestHostileConcurrentMapWritableLosesFile(t *testing.T) {
	dir := t.TempDir()
	lost, failed := 0, 0
	var firstErr error
	const rounds = 100
	for i := range rounds {
		p := filepath.Join(dir, fmt.Sprint(i))
		var stop atomic.Bool
		var tries atomic.Int64
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // a caller whose MapWritable fails: offset past the end
			defer wg.Done()
			for !stop.Load() {
				tries.Add(1)
				if h, err := memory.MapWritable(p, 1<<20, 0); err == nil {
					h.Close()
				}
			}
		}()
		for tries.Load() < 3 {
			runtime.Gosched()
		}
		h, err := memory.MapWritable(p, 0, 4096)
		stop.Store(true)
		wg.Wait()
		if err != nil {
			failed++
			firstErr = err
			continue
		}
		h.Writable().PutUint8(0, 7)
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(p); err != nil || len(b) != 4096 || b[0] != 7 {
			lost++
		}
	}
	if lost > 0 || failed > 0 {
		t.Fatalf("of %d MapWritable(p, 0, 4096) calls racing a failing MapWritable(p, 1 MiB, 0): %d mapped a file that is not at p after Close, %d failed (%v)", rounds, lost, failed, firstErr)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != rounds {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("%d files left in the directory, want the %d mapped: %v", len(entries), rounds, names)
	}
}

// Calls racing to create one missing file all map that same file: what one
// writes, the others read.
func TestHostileConcurrentMapWritableCreatesOneFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	const n = 8
	handles := make([]*memory.WritableHandle, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { handles[i], errs[i] = memory.MapWritable(p, 0, 4096) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		defer handles[i].Close()
	}
	for i, h := range handles {
		h.Writable().PutUint8(int64(i), uint8(i+1))
	}
	for i, h := range handles {
		for j := range n {
			if got := h.Writable().GetUint8(int64(j)); got != uint8(j+1) {
				t.Fatalf("handle %d reads %d at %d, want %d written through handle %d: not the same file", i, got, j, j+1, j)
			}
		}
	}
}

// "The file is created if missing": a path that is a symbolic link to a
// file not yet made (a "current" link set up before the data file exists)
// creates the link's target, as an ordinary O_CREATE open does, through a
// chain of links and a relative target too.
func TestHostileMapWritableThroughDanglingSymlink(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "data", "data-1")
	link := filepath.Join(dir, "current")
	// current -> data/next (relative), data/next -> data-1 (relative to data/)
	if err := os.Symlink(filepath.Join("data", "next"), link); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("data-1", filepath.Join(dir, "data", "next")); err != nil {
		t.Fatal(err)
	}
	h, err := memory.MapWritable(link, 0, 4096)
	if err != nil {
		t.Fatalf("MapWritable through a link to a missing file: %v, want the target created", err)
	}
	h.Writable().PutUint8(0, 1)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(target); err != nil || st.Size() != 4096 {
		t.Fatalf("target after MapWritable: %v, %v", st, err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link after MapWritable: %v, %v; want it still a link", st, err)
	}
	if b, err := os.ReadFile(link); err != nil || b[0] != 1 {
		t.Fatalf("reading through the link: %v", err)
	}
}

// A missing directory is "no such file or directory" for the path asked,
// and creates nothing.
func TestHostileMapWritableMissingDirectory(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "no", "f")
	h, err := memory.MapWritable(p, 0, 4096)
	if err == nil {
		h.Close()
		t.Fatalf("MapWritable(%s) in a missing directory succeeded", p)
	}
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), p) {
		t.Errorf("MapWritable in a missing directory = %v, want fs.ErrNotExist naming %s", err, p)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%d entries left in the parent directory", len(entries))
	}
}
