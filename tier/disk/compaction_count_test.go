package disk_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/tiermem/tiermem/tier/disk"
)

// TestUsedAndLenStillWhileCompactionMovesRecords: while Compact moves
// thousands of live records to new segments, Used and Len, read over and
// over, never change: a record that moves is never counted twice, nor
// lost, not even between the two reads.
func TestUsedAndLenStillWhileCompactionMovesRecords(t *testing.T) {
	s := openStore(t, t.TempDir(), &disk.Options{Compression: disk.NoCompression, SegmentSize: 64 << 10, Sync: disk.SyncNone})
	defer s.Close()
	const keys = 3000
	for i := range keys {
		if _, err := s.Put(fmt.Sprint("live-", i), randomBytes(i%40, uint64(i)), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(fmt.Sprint("dead-", i), randomBytes(100, uint64(i)), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Delete(fmt.Sprint("dead-", i)); err != nil { // every segment holds dead bytes
			t.Fatal(err)
		}
	}
	used, n := s.Used(), s.Len()
	if n != keys {
		t.Fatalf("Len %d, want %d", n, keys)
	}
	var done atomic.Bool
	errs := make(chan error, 1)
	go func() {
		errs <- s.Compact()
		done.Store(true)
	}()
	looks := 0
	for ; !done.Load(); looks++ {
		if u, l := s.Used(), s.Len(); u != used || l != n {
			t.Fatalf("while compaction moves records: Used %d, Len %d; before it %d, %d", u, l, used, n)
		}
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if u, l := s.Used(), s.Len(); u != used || l != n {
		t.Errorf("after compaction: Used %d, Len %d; before it %d, %d", u, l, used, n)
	}
	t.Logf("%d looks while compaction ran", looks)
}
