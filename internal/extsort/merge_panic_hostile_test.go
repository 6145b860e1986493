package extsort_test

import (
	"encoding/binary"
	"os"
	"sync/atomic"
	"testing"

	"github.com/tiermem/tiermem/internal/extsort"
)

// TestHostileComparePanicInMergeLeaksNoRun: a Compare that panics while
// Sort merges runs into a longer one (more runs than FanIn) reaches the
// caller, who recovers and Closes the Sorter, as the docs ask ("Close it
// when done, whatever happened, to remove its run files"). The merged run
// being written (mergeToRun's runWriter, never aborted on a panic) stays in
// Dir with its descriptor open.
func TestHostileComparePanicInMergeLeaksNoRun(t *testing.T) {
	dir := t.TempDir()
	const n = 3000
	var armed atomic.Bool
	var calls atomic.Int64
	old := func(r []byte) bool { return binary.BigEndian.Uint64(r) < n-800 } // in runs spilled and finished
	s := extsort.New(extsort.Options{Dir: dir, MemoryLimit: 64 << 10, FanIn: 2, Compare: func(a, b []byte) int {
		if armed.Load() && old(a) && old(b) && calls.Add(1) > 10 {
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
	armed.Store(true)
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
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("after a Compare panic in Sort's merge and Close, %d run files are left in Dir", len(left))
	}
}
