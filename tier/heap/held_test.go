package heap_test

import (
	"bytes"
	"runtime"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier/heap"
)

// TestHeldCountsLentEntriesUntilReclaimed: an entry of 64 KiB or more that
// is replaced or deleted counts in Held while a reader keeps its value
// (Lends), and leaves it once the garbage collector reclaims it; smaller
// entries never count.
func TestHeldCountsLentEntriesUntilReclaimed(t *testing.T) {
	s := heap.New()
	defer s.Close()
	const n = 100 << 10
	put := func(key string, v []byte) {
		t.Helper()
		if _, err := s.Put(key, v, nil); err != nil {
			t.Fatal(err)
		}
	}
	put("small", make([]byte, 100))
	put("small", make([]byte, 1000))
	s.Delete("small")
	if h := s.Held(); h != 0 {
		t.Fatalf("Held = %d after small entries left", h)
	}
	first := bytes.Repeat([]byte{1}, n)
	put("big", first)
	var kept []byte
	s.ViewMeta("big", func(v, _ []byte) error { kept = v; return nil }) // kept, as Lends allows
	put("big", bytes.Repeat([]byte{2}, n))
	s.Delete("big")
	if h := s.Held(); h < 2*n {
		t.Fatalf("Held = %d after two large entries left, want at least %d", h, 2*n)
	}
	runtime.GC()
	runtime.GC()
	if h := s.Held(); h < n {
		t.Fatalf("Held = %d while a reader keeps a value of %d bytes", h, n)
	}
	if !bytes.Equal(kept, first) {
		t.Fatal("the kept value changed")
	}
	kept = nil
	deadline := time.Now().Add(time.Minute) // cleanups run after a collection, in their own goroutine
	for s.Held() != 0 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if h := s.Held(); h != 0 {
		t.Fatalf("Held = %d a minute after the last reader let go", h)
	}
}
