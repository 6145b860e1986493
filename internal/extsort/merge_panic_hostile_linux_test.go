package extsort_test

import (
	"encoding/binary"
	"os"
	"sync/atomic"
	"testing"

	"github.com/tiermem/tiermem/internal/extsort"
)

// openFDs counts the process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

// TestHostileComparePanicInMergeLeaksNoDescriptor: a Compare that panics
// when Sort merges runs (here reduceRuns' first merge of FanIn runs, whose
// newMerger orders the runs' first records) reaches the caller, who
// recovers and Closes the Sorter. The run readers openMerger opened are
// never closed: each named run's descriptor leaks, FanIn of them.
func TestHostileComparePanicInMergeLeaksNoDescriptor(t *testing.T) {
	dir := t.TempDir()
	const n = 3000
	before := openFDs(t)
	var armed atomic.Bool
	old := func(r []byte) bool { return binary.BigEndian.Uint64(r) < n-800 } // in runs spilled and finished
	s := extsort.New(extsort.Options{Dir: dir, MemoryLimit: 64 << 10, Compare: func(a, b []byte) int {
		if armed.Load() && old(a) && old(b) {
			panic("a record Compare cannot parse")
		}
		return 0
	}})
	rec := make([]byte, 100)
	for i := range n {
		binary.BigEndian.PutUint64(rec, uint64(i))
		if err := s.Add(1, rec); err != nil {
			t.Fatal(err)
		}
	}
	armed.Store(true) // a spill in flight holds no old record: only the merge panics
	var p any
	func() {
		defer func() { p = recover() }()
		_, _ = s.Sort()
	}()
	if p == nil {
		t.Fatal("Compare never panicked in the merge: the test did not reach it")
	}
	func() {
		defer func() { _ = recover() }()
		_ = s.Close()
	}()
	if after := openFDs(t); after > before {
		t.Errorf("after a Compare panic in Sort's merge and Close, %d more file descriptors are open", after-before)
	}
}
