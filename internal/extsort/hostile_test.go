package extsort

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/tiermem/tiermem/internal/tmpfs"
)

// hostileOpenFDs counts the process's open file descriptors.
func hostileOpenFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(fds)
}

// hostileSpilled returns a Sorter that has spilled at least runs runs, its
// spill in flight collected, so that s.runs holds every run file.
func hostileSpilled(t *testing.T, runs int) *Sorter {
	t.Helper()
	s := New(Options{Dir: t.TempDir(), MemoryLimit: 64 << 10})
	t.Cleanup(func() { s.Close() })
	for i := 0; len(s.runs) < runs; i++ {
		if err := s.Add(uint64(i%97), fmt.Appendf(nil, "record %06d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.wait(); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestHostileCorruptRunAtSortClosesReaders: a run file overwritten before
// Sort makes Sort fail with ErrCorruptRun, and Sort leaves none of the run
// readers it opened behind: after Close, no file descriptor (and no removed
// run's disk space) is held.
func TestHostileCorruptRunAtSortClosesReaders(t *testing.T) {
	s := hostileSpilled(t, 8)
	if err := os.WriteFile(s.runs[len(s.runs)-1].name, []byte("xyz"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := hostileOpenFDs(t)
	_, err := s.Sort()
	if !errors.Is(err, ErrCorruptRun) {
		t.Fatalf("Sort = %v, want ErrCorruptRun", err)
	}
	s.Close()
	if after := hostileOpenFDs(t); after > before {
		t.Errorf("%d file descriptors open before Sort, %d after Sort failed and Close: the run readers leak", before, after)
	}
}

// TestHostileCorruptRunLengthIsBoundedByTheFile: a record length in a run
// file is never trusted beyond the bytes left in the file. A length of
// 1 GiB in a 17-byte run is ErrCorruptRun, found without allocating it.
func TestHostileCorruptRunLengthIsBoundedByTheFile(t *testing.T) {
	s := hostileSpilled(t, 2)
	rec := binary.LittleEndian.AppendUint64(nil, 1)
	rec = binary.AppendUvarint(rec, 1<<30) // 1 GiB record in a 17-byte file
	rec = append(rec, "short"...)
	if err := os.WriteFile(s.runs[0].name, rec, 0o600); err != nil {
		t.Fatal(err)
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	_, err := s.Sort()
	runtime.ReadMemStats(&m1)
	if !errors.Is(err, ErrCorruptRun) {
		t.Errorf("Sort = %v, want ErrCorruptRun", err)
	}
	if got := m1.TotalAlloc - m0.TotalAlloc; got > 64<<20 {
		t.Errorf("Sort of a corrupt 17-byte run allocated %d MiB", got>>20)
	}
}

// TestHostileFailedSpillSticks: once a background spill fails (here on a
// full disk), its records are lost, so the Sorter never returns a sort:
// every later Add and Sort returns the spill's error, even after the disk
// has room again.
func TestHostileFailedSpillSticks(t *testing.T) {
	dir := tmpfs.Mount(t, "1m")
	filler := filepath.Join(dir, "filler")
	// Fill the disk but for a few KiB: runs of ~32 KiB cannot be written.
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := f.Write(make([]byte, 4096)); err != nil {
			break
		}
	}
	f.Close()
	s := New(Options{Dir: dir, MemoryLimit: 64 << 10})
	defer s.Close()
	var addErr error
	for i := 0; i < 20000 && addErr == nil; i++ {
		addErr = s.Add(uint64(i), fmt.Appendf(nil, "record %06d", i))
	}
	if !errors.Is(addErr, syscall.ENOSPC) {
		t.Fatalf("Add on a full disk = %v, want ENOSPC", addErr)
	}
	os.Remove(filler) // space returns
	if err := s.Add(1, []byte("more")); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Add after a failed spill = %v, want the spill's ENOSPC again", err)
	}
	it, err := s.Sort()
	if err == nil {
		var n int64
		for it.Next() {
			n++
		}
		t.Fatalf("Sort succeeded after a failed spill: %d records of %d, iteration error %v", n, s.Len(), it.Err())
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Sort after a failed spill = %v, want the spill's ENOSPC", err)
	}
	if _, err := s.Sort(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("second Sort = %v, want the spill's ENOSPC", err)
	}
}

// TestHostileMergeBuffersWithinMemoryLimit: the merge's read buffers fit in
// half of MemoryLimit, however small it is against FanIn: with 256 KiB and
// the default FanIn of 64 they take at most 128 KiB, and the heap the merge
// holds stays under the limit.
func TestHostileMergeBuffersWithinMemoryLimit(t *testing.T) {
	const limit = 256 << 10
	s := New(Options{Dir: t.TempDir(), MemoryLimit: limit})
	defer s.Close()
	rec := make([]byte, 100)
	for i := 0; len(s.runs) < 62; i++ {
		if err := s.Add(uint64(i), rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.wait(); err != nil { // 63 runs; Sort spills the 64th
		t.Fatal(err)
	}
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	it, err := s.Sort()
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	bufs := 0
	for _, r := range it.src.(*merger).heap {
		bufs += r.r.Size()
	}
	if bufs > limit/2 {
		t.Errorf("MemoryLimit %d KiB, but the merge's read buffers take %d KiB, more than half of it", limit>>10, bufs>>10)
	}
	for it.Next() {
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if held := int64(m1.HeapAlloc) - int64(m0.HeapAlloc); held > limit {
		t.Errorf("MemoryLimit %d KiB, but the merge holds %d KiB of heap", limit>>10, held>>10)
	}
}

// TestHostileUnlinkedRunsHaveNoName: with Unlink, a process killed while it
// sorts (a SIGKILL during a snapshot's copy, whose runs lie in a directory
// nothing sweeps) leaves no run in Dir: the runs have no name from the
// moment they are made, so Dir stays empty while the Sorter holds spilled
// runs, after Sort has merged some into new ones (FanIn 2), and the
// records still come back whole and in order; Close releases their
// descriptors.
func TestHostileUnlinkedRunsHaveNoName(t *testing.T) {
	dir := t.TempDir()
	fds := hostileOpenFDs(t)
	s := New(Options{Dir: dir, MemoryLimit: 64 << 10, FanIn: 2, Unlink: true})
	const n = 20000
	for i := range n {
		if err := s.Add(uint64(n-i), fmt.Appendf(nil, "record %06d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if s.Runs() < 3 {
		t.Fatalf("%d runs spilled, want several", s.Runs())
	}
	hostileNoFiles(t, dir, "with runs spilled")
	it, err := s.Sort()
	if err != nil {
		t.Fatal(err)
	}
	hostileNoFiles(t, dir, "after Sort")
	got := 0
	for prev := uint64(0); it.Next(); got++ {
		if it.Key() < prev {
			t.Fatalf("record %d: key %d after %d", got, it.Key(), prev)
		}
		prev = it.Key()
	}
	if err := it.Err(); err != nil || got != n {
		t.Fatalf("%d records of %d, %v", got, n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if after := hostileOpenFDs(t); after > fds {
		t.Errorf("%d file descriptors open before the sort, %d after Close: unlinked runs leak", fds, after)
	}
}

// hostileNoFiles fails the test if dir holds any entry.
func hostileNoFiles(t *testing.T, dir, when string) {
	t.Helper()
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("%s, the run directory holds %d named files (%s...)", when, len(left), left[0].Name())
	}
}

// TestHostileTruncatedUnlinkedRunIsCorrupt: an unlinked run cut short after
// Sort (through its descriptor; runs of about 128 KiB, longer than a run
// reader's 64 KiB buffer, so that the merge sees it) ends the iteration
// with ErrCorruptRun, as a named run does, not a short sort.
func TestHostileTruncatedUnlinkedRunIsCorrupt(t *testing.T) {
	s := New(Options{Dir: t.TempDir(), MemoryLimit: 256 << 10, Unlink: true})
	defer s.Close()
	for i := range 4000 {
		if err := s.Add(uint64(i), fmt.Appendf(nil, "record %d %0200d", i, i)); err != nil {
			t.Fatal(err)
		}
	}
	it, err := s.Sort()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range s.runs {
		st, err := r.f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		if err := r.f.Truncate(st.Size() - 3); err != nil {
			t.Fatal(err)
		}
	}
	for it.Next() {
	}
	if !errors.Is(it.Err(), ErrCorruptRun) {
		t.Fatalf("Err = %v, want ErrCorruptRun", it.Err())
	}
}
