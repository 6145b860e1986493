package tiermem_test

import (
	"bytes"
	"runtime"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestUsageReportsWhatReadersHold: a large warm value replaced while a
// ValueReader reads it, and a large hot value replaced while a caller
// keeps what RetrieveShared handed out, show in Usage's Held for their
// tier until the reader closes or the value is dropped and collected.
func TestUsageReportsWhatReadersHold(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1})
	const n = 1 << 20
	must(t, m.Store("w", bytes.Repeat([]byte{1}, n), tiermem.InTier(tiermem.Warm)))
	r, err := m.OpenValue("w")
	must(t, err)
	must(t, m.Store("w", bytes.Repeat([]byte{2}, n), tiermem.InTier(tiermem.Warm)))
	if h := m.Usage()[tiermem.Warm].Held; h < n {
		t.Fatalf("warm Held = %d while a reader reads the replaced value of %d bytes", h, n)
	}
	must(t, r.Close())
	if h := m.Usage()[tiermem.Warm].Held; h != 0 {
		t.Fatalf("warm Held = %d after the reader closed", h)
	}

	must(t, m.Store("h", bytes.Repeat([]byte{3}, n), tiermem.InTier(tiermem.Hot)))
	v, shared, err := m.RetrieveShared(nil, "h")
	must(t, err)
	if !shared {
		t.Fatal("a 1 MiB hot value was not shared")
	}
	must(t, m.Delete("h"))
	runtime.GC()
	if h := m.Usage()[tiermem.Hot].Held; h < n {
		t.Fatalf("hot Held = %d while the caller keeps the deleted value of %d bytes", h, n)
	}
	if v[0] != 3 || v[n-1] != 3 {
		t.Fatal("the shared value changed")
	}
	v = nil
	deadline := time.Now().Add(time.Minute) // cleanups run after a collection, in their own goroutine
	for m.Usage()[tiermem.Hot].Held != 0 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if h := m.Usage()[tiermem.Hot].Held; h != 0 {
		t.Fatalf("hot Held = %d a minute after the value was dropped", h)
	}
}
