package heap_test

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tiermem/tiermem/tier/heap"
)

// A value lent past its callback is read while SetMeta writes the
// meta in place right after it (the allocation's spare bytes): under -race,
// no report, and the value never changes.
func TestLentValueBesideInPlaceMeta(t *testing.T) {
	s := heap.New()
	defer s.Close()
	v := bytes.Repeat([]byte{7}, 70001) // the allocation keeps 7 spare bytes after it
	if _, err := s.Put("k", v, nil); err != nil {
		t.Fatal(err)
	}
	var lent []byte
	if err := s.View("k", func(b []byte) error { lent = b; return nil }); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, len(lent))
		for !stop.Load() {
			copy(buf, lent)
			if buf[len(buf)-1] != 7 {
				t.Error("the lent value changed")
				return
			}
		}
	})
	for i := range 2000 {
		meta := bytes.Repeat([]byte{byte(i)}, 1+i%7)
		if _, err := s.SetMeta("k", meta, 1<<20); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if s.Held() != 0 {
		t.Errorf("Held %d: the entry moved", s.Held())
	}
}
