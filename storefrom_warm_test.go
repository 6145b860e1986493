package tiermem_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestStoreFromMemoryCloseInTheMiddle closes the Manager while a value is
// streamed into the hot and into the warm tier, into the memory the tier
// will keep: Close does not wait for the slow stream, the stream then
// writes on into that memory without a fault (Close unmapped nothing it
// writes to), the StoreFrom fails with ErrClosed, and the key keeps its
// old value across the reopen.
func TestStoreFromMemoryCloseInTheMiddle(t *testing.T) {
	for _, tier := range []tiermem.Tier{tiermem.Hot, tiermem.Warm} {
		t.Run(tier.String(), func(t *testing.T) {
			dir := t.TempDir()
			m := openIn(t, dir)
			must(t, m.Store("k", []byte("old"), tiermem.InTier(tier)))
			value := noise(800 << 10)
			g := &gatedReader{r: bytes.NewReader(value), n: 300 << 10, reached: make(chan struct{}), release: make(chan struct{})}
			done := make(chan error)
			go func() { done <- m.StoreFrom("k", g, int64(len(value)), tiermem.InTier(tier)) }()
			<-g.reached
			closed := make(chan error)
			go func() { closed <- m.Close() }()
			select {
			case err := <-closed:
				must(t, err)
			case <-time.After(time.Minute):
				t.Fatal("Close waits for a slow stream")
			}
			close(g.release)
			if err := <-done; !errors.Is(err, tiermem.ErrClosed) {
				t.Errorf("StoreFrom across Close: %v", err)
			}
			m = openIn(t, dir)
			if got, err := m.Retrieve("k"); err != nil || string(got) != "old" {
				t.Errorf("k after the reopen: %q, %v", got, err)
			}
		})
	}
}

// TestStoreFromWarmConcurrent: values streamed into the warm tier while
// Stores, Moves and Deletes of the same keys run (with -race): every read
// is one of the values written, whole.
func TestStoreFromWarmConcurrent(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 2 << 20},
		Warm: tiermem.TierOptions{Size: 4 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}})
	storeFromConcurrently(t, m, tiermem.Warm, 40)
}
