package disk_test

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier/disk"
)

// TestLenHoldsWhileCompactionMovesAKey: the tier contract lets the Manager
// skip a store whose Len is 0 when it looks for a key (a read's retry
// under the key's lock, and the removal of a key's older copies). A store
// that holds one key must so never report Len 0 while compaction, which
// runs without the Manager's key lock, moves that key's record.
func TestLenHoldsWhileCompactionMovesAKey(t *testing.T) {
	s := openStore(t, "", &disk.Options{SegmentSize: 4 << 10, CompactThreshold: -1, Compression: disk.NoCompression})
	if _, err := s.Put("only", []byte("v0"), nil); err != nil {
		t.Fatal(err)
	}
	var zero, polls atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			for range 1000 {
				if s.Len() == 0 {
					zero.Add(1)
				}
			}
			polls.Add(1000)
		}
	}()
	deadline := time.Now().Add(2 * time.Second)
	for i := 0; time.Now().Before(deadline) && zero.Load() == 0; i++ {
		if _, err := s.Put("only", bytes.Repeat([]byte{byte(i)}, 100), nil); err != nil {
			t.Fatal(err)
		}
		if err := s.Compact(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if n := zero.Load(); n > 0 {
		t.Fatalf("Len read 0 %d times in %d while the store held its one key", n, polls.Load())
	}
}
