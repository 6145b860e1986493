package memory_test

import (
	"errors"
	"testing"

	"github.com/tiermem/tiermem/memory"
)

// backings returns writable memories of size bytes over each kind of backing,
// closed when the test ends.
func backings(t *testing.T, size int64) map[string]memory.WritableMemory {
	t.Helper()
	off, err := memory.Allocate(size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { off.Close() })
	file, err := memory.MapWritable(t.TempDir()+"/map", 3, size) // an unaligned file offset
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { file.Close() })
	return map[string]memory.WritableMemory{
		"heap":    memory.Wrap(make([]byte, size)),
		"offheap": off.Writable(),
		"file":    file.Writable(),
	}
}

// mustPanic runs f and checks that it panics with an *AccessError wrapping want.
func mustPanic(t *testing.T, want error, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want %v", want)
		}
		err, ok := r.(error)
		var ae *memory.AccessError
		if !ok || !errors.As(err, &ae) || !errors.Is(err, want) {
			t.Fatalf("panic %v, want an *AccessError wrapping %v", r, want)
		}
	}()
	f()
}
