package tiermem_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestCloseDuringStreams: Close while slow streams hold room in hot,
// warm (own mapping) and cold (staged) returns at once; each stream, once
// released, fails with ErrClosed and gives its room back.
func TestCloseDuringStreams(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{MigrateInterval: -1,
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}})
	must(t, err)
	sizes := map[tiermem.Tier]int{tiermem.Hot: 500 << 10, tiermem.Warm: 1 << 20, tiermem.Cold: 2 << 20}
	var readers []*heldReader
	errs := make(chan error, 3)
	for tr, size := range sizes {
		r := newHeldReader(make([]byte, size), 70<<10)
		readers = append(readers, r)
		go func() { errs <- m.StoreFrom(fmt.Sprint("s", tr), r, int64(size), tiermem.InTier(tr)) }()
		waitStreaming(t, m, tr, int64(size))
	}
	start := time.Now()
	must(t, m.Close())
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("Close took %v with streams in flight", d)
	}
	for _, r := range readers {
		close(r.release)
	}
	for range readers {
		if err := <-errs; !errors.Is(err, tiermem.ErrClosed) {
			t.Errorf("a stream that ended after Close: %v", err)
		}
	}
	for tr, u := range m.Usage() {
		if u.Streaming != 0 {
			t.Errorf("the %v tier holds %d bytes for streams after they all ended", tiermem.Tier(tr), u.Streaming)
		}
	}
}

// TestCloseEndsWritesWaitingOnStreams: a slow stream holds most of hot;
// a Store that names hot waits for that room inside the Manager's gate.
// Close does not wait for the stream through it: the Store ends with
// ErrClosed and Close returns at once.
func TestCloseEndsWritesWaitingOnStreams(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{MigrateInterval: -1,
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}})
	must(t, err)
	const size = 900 << 10
	r := newHeldReader(make([]byte, size), 1024)
	errs := make(chan error, 2)
	go func() { errs <- m.StoreFrom("slow", r, size, tiermem.InTier(tiermem.Hot)) }()
	waitStreaming(t, m, tiermem.Hot, size)
	go func() { errs <- m.Store("named", make([]byte, 300<<10), tiermem.InTier(tiermem.Hot)) }()
	time.Sleep(50 * time.Millisecond) // the Store waits in reserve
	start := time.Now()
	must(t, m.Close())
	d := time.Since(start)
	close(r.release)
	for range 2 {
		if err := <-errs; !errors.Is(err, tiermem.ErrClosed) {
			t.Errorf("a write in flight at Close: %v, want ErrClosed", err)
		}
	}
	if d > 4*time.Second {
		t.Errorf("Close took %v: it waited for a Store that waited for a slow stream's room", d)
	}
}
