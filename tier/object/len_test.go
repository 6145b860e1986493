package object_test

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier/object"
)

// TestLenHoldsWhileAKeyIsReplacedAndCompacted: a store that holds one key
// never reports Len 0 while Puts replace it and compaction copies it (the
// Manager's lockless first look at a read skips stores whose Len is 0).
func TestLenHoldsWhileAKeyIsReplacedAndCompacted(t *testing.T) {
	s, err := object.Open(object.NewMem(), &object.Options{PackSize: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var zero, polls atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	if _, err := s.Put("only", []byte("v"), nil); err != nil {
		t.Fatal(err)
	}
	wg.Go(func() {
		for !stop.Load() {
			for range 1000 {
				if s.Len() == 0 {
					zero.Add(1)
				}
			}
			polls.Add(1000)
		}
	})
	deadline := time.Now().Add(2 * time.Second)
	iters := 0
	for ; time.Now().Before(deadline) && zero.Load() == 0; iters++ {
		s.Put("only", bytes.Repeat([]byte{1}, 1000), nil)
		s.Put("junk", bytes.Repeat([]byte{2}, 3000), nil)
		s.Delete("junk")
		if err := s.Compact(); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if n := zero.Load(); n > 0 {
		t.Fatalf("Len read 0 %d times in %d polls (%d rounds) while the store held its one key", n, polls.Load(), iters)
	}
}
