package extsort_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/internal/extsort"
)

// TestHostileComparePanicKillsProcess: a Compare that panics (on a record it
// cannot parse, say) while a buffer is spilled panicked on the Sorter's
// background goroutine, where no recover of the caller's could reach it: the
// whole process died, a server that recovers each request's panics
// included, and the named run files already spilled stayed in Dir. Now the
// spill recovers it and Add, Sort or Close panics with it on the caller's
// goroutine; Close still removes the runs. The child process is the caller.
func TestHostileComparePanicKillsProcess(t *testing.T) {
	if dir := os.Getenv("EXTSORT_PANIC_CHILD_DIR"); dir != "" {
		s := extsort.New(extsort.Options{Dir: dir, MemoryLimit: 64 << 10, Compare: func(a, b []byte) int {
			panic("a record Compare cannot parse")
		}})
		defer s.Close()
		defer func() {
			if recover() != nil {
				os.Stdout.WriteString("recovered\n")
			}
		}()
		rec := make([]byte, 100)
		for range 10_000 { // equal keys: every spill calls Compare
			if err := s.Add(1, rec); err != nil {
				return
			}
		}
		_, _ = s.Sort()
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHostileComparePanicKillsProcess$")
	cmd.Env = append(os.Environ(), "EXTSORT_PANIC_CHILD_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "recovered") {
		t.Errorf("the caller could not recover Compare's panic: the process died (%v):\n%.600s", err, out)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("%d run files left in Dir", len(left))
	}
}

// TestHostileComparePanicReachesClose: when the caller's next call after a
// spill whose Compare panicked is Close, Close removes the runs and then
// panics with Compare's panic, rather than dropping it.
func TestHostileComparePanicReachesClose(t *testing.T) {
	dir := t.TempDir()
	s := extsort.New(extsort.Options{Dir: dir, MemoryLimit: 64 << 10, Compare: func(a, b []byte) int {
		panic("a record Compare cannot parse")
	}})
	rec := make([]byte, 100)
	for range 300 { // one buffer of 32 KiB and a little: one spill, in flight
		if err := s.Add(1, rec); err != nil {
			t.Fatal(err)
		}
	}
	var p any
	func() {
		defer func() { p = recover() }()
		s.Close()
	}()
	if p != "a record Compare cannot parse" {
		t.Errorf("Close after a spill whose Compare panicked recovered %v, want Compare's panic", p)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("%d run files left in Dir", len(left))
	}
}
