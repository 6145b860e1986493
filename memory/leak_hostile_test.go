package memory_test

import (
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/tiermem/tiermem/memory"
)

// Leak.Kind is documented as "off-heap" or "file mapping": a reporter that
// sorts leaks by the documented kind sees both.
func TestHostileLeakKindOfAllocation(t *testing.T) {
	const (
		allocSize = 23457 // told apart from the leaks of other tests
		mapSize   = 23473
	)
	leaks := make(chan memory.Leak, 16)
	memory.SetLeakReporter(func(l memory.Leak) {
		if l.Size == allocSize || l.Size == mapSize {
			leaks <- l
		}
	})
	defer memory.SetLeakReporter(nil)
	path := filepath.Join(t.TempDir(), "f")
	func() {
		if _, err := memory.Allocate(allocSize); err != nil {
			t.Fatal(err)
		}
		if _, err := memory.MapWritable(path, 0, mapSize); err != nil {
			t.Fatal(err)
		}
	}()
	want := map[int64]string{allocSize: "off-heap", mapSize: "file mapping"}
	deadline := time.After(10 * time.Second)
	for len(want) > 0 {
		runtime.GC()
		select {
		case l := <-leaks:
			if l.Kind != want[l.Size] {
				t.Errorf("Leak.Kind of a leaked handle of %d bytes = %q, documented as %q", l.Size, l.Kind, want[l.Size])
			}
			delete(want, l.Size)
		case <-deadline:
			t.Fatalf("no leak reported for %v", want)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
