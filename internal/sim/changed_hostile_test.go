package sim_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tiermem/tiermem/internal/sim"
	"github.com/tiermem/tiermem/internal/trace"
)

// TestHostileGrownTraceUnnoticedWithOpt: a trace file that grows between
// ScanFiles and RunTrace (a trace still being written, or replaced by a
// longer one) is ErrChanged for the streaming policies, and must be with opt
// among the policies too: load, which holds the trace for opt, used to stop
// at Len requests and return hit ratios of a trace that is not the file's.
// ErrChanged's doc promises the error for "a number of requests other than
// its Len", in either direction.
func TestHostileGrownTraceUnnoticedWithOpt(t *testing.T) {
	for _, policies := range [][]string{{"lru"}, {"opt"}, {"opt", "lru"}} {
		path := filepath.Join(t.TempDir(), "t.lirs")
		if err := os.WriteFile(path, []byte("1\n2\n3\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		files, err := trace.ScanFiles([]trace.Part{{Path: path, Format: trace.LIRS}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString("4\n5\n1\n2\n"); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		results, err := sim.RunTrace(files, []int{2}, policies, nil)
		if !errors.Is(err, sim.ErrChanged) {
			t.Errorf("%v: RunTrace over a trace grown from 3 to 7 requests = %+v, %v; want ErrChanged", policies, results, err)
		}
	}
}
