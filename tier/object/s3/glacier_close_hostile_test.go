package s3_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/s3test"
)

// TestGlacierHostileCloseWhileOperationsInFlight: readers of glacier
// values, writers into glacier and a migration pass run while the store
// stalls and Close begins; Close returns in bounded time, every operation
// ends (a value or an error, no hang, no panic), and once the store is
// back Close succeeds and every acknowledged value reads back after a reopen.
func TestGlacierHostileCloseWhileOperationsInFlight(t *testing.T) {
	p := newHostileProxy(t)
	direct := s3test.URL(t)
	dir := t.TempDir()
	m, err := tiermem.Open(dir, hostileProxyOptions(p.url(direct)))
	if err != nil {
		t.Fatal(err)
	}
	uploadToGlacier(t, m, "g", 20)
	var mu sync.Mutex
	acked := map[string][]byte{}
	for i := range 20 {
		key := fmt.Sprint("g", i)
		acked[key] = hostileValue(key)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprint("g", (w*7+i)%20)
				if got, err := m.Retrieve(key); err == nil && !bytes.Equal(got, hostileValue(key)) {
					t.Errorf("%s: wrong bytes", key)
				}
				nk := fmt.Sprintf("w%d-%d", w, i)
				if err := m.Store(nk, hostileValue(nk), tiermem.InTier(tiermem.Glacier)); err == nil {
					mu.Lock()
					acked[nk] = hostileValue(nk)
					mu.Unlock()
				} else if errors.Is(err, tiermem.ErrClosed) {
					time.Sleep(10 * time.Millisecond)
				}
			}
		})
	}
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			m.Migrate()
		}
	})
	time.Sleep(300 * time.Millisecond)
	p.setStalled(true)
	time.Sleep(100 * time.Millisecond)
	err = within(t, 30*time.Second, "Close while operations are in flight", m.Close)
	t.Logf("Close while stalled: %v", err)
	p.setStalled(false)
	if err != nil {
		if err := within(t, 30*time.Second, "Close once the store is back", m.Close); err != nil && !errors.Is(err, tiermem.ErrClosed) {
			t.Fatalf("Close once the store is back: %v", err)
		}
	}
	close(stop)
	wg.Wait()
	m2, err := tiermem.Open(dir, hostileProxyOptions(direct)) // promotions moved some values back to cold
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	t.Logf("%d acknowledged values", len(acked))
	for key, v := range acked {
		if got, err := m2.Retrieve(key); err != nil || !bytes.Equal(got, v) {
			t.Fatalf("%s after the reopen: %d bytes, %v", key, len(got), err)
		}
	}
}
