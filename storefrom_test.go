package tiermem_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// openIn opens a Manager with open's budgets (hot 1 MiB, warm 4 MiB, cold
// 64 MiB) in dir.
func openIn(t *testing.T, dir string) *tiermem.Manager {
	t.Helper()
	m, err := tiermem.Open(dir, &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// noStaged fails the test if a staging file is left in dir's cold tier.
func noStaged(t *testing.T, dir string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(dir, "cold", "*.tmp"))
	if len(left) > 0 {
		t.Errorf("staging files left: %q", left)
	}
}

func TestStoreFrom(t *testing.T) {
	dir := t.TempDir()
	m := openIn(t, dir)
	for _, tc := range []struct {
		key  string
		n    int
		opts []tiermem.StoreOption
		want tiermem.Tier
	}{
		{"small", 100, nil, tiermem.Hot}, // read into memory
		{"warm", 200 << 10, []tiermem.StoreOption{tiermem.InTier(tiermem.Warm)}, tiermem.Warm},
		{"cold", 300 << 10, []tiermem.StoreOption{tiermem.InTier(tiermem.Cold)}, tiermem.Cold}, // streamed
		{"huge", 8 << 20, nil, tiermem.Cold},                                                   // over hot's and warm's budgets: streamed
		{"ttl", 100 << 10, []tiermem.StoreOption{tiermem.InTier(tiermem.Cold), tiermem.WithTTL(time.Hour), tiermem.Pinned()}, tiermem.Cold},
		{"empty", 0, []tiermem.StoreOption{tiermem.InTier(tiermem.Cold)}, tiermem.Cold},
	} {
		value := noise(tc.n)
		must(t, m.StoreFrom(tc.key, bytes.NewReader(value), int64(len(value)), tc.opts...))
		got, err := m.Retrieve(tc.key)
		if err != nil || !bytes.Equal(got, value) {
			t.Fatalf("%s: %d bytes back, want %d (%v)", tc.key, len(got), len(value), err)
		}
		if tr := tierOf(t, m, tc.key); tr != tc.want {
			t.Errorf("%s in %v, want %v", tc.key, tr, tc.want)
		}
	}
	if exp, err := m.ExpireTime("ttl"); err != nil || time.Until(exp) < 59*time.Minute {
		t.Errorf("ttl expires %v, %v", exp, err)
	}
	if p, err := m.IsPinned("ttl"); err != nil || !p {
		t.Errorf("ttl pinned: %v, %v", p, err)
	}
	// A streamed value replaces the key's value in any tier.
	must(t, m.Store("moved", []byte("in hot"), tiermem.InTier(tiermem.Hot)))
	value := noise(1 << 20)
	must(t, m.StoreFrom("moved", bytes.NewReader(value), int64(len(value)), tiermem.InTier(tiermem.Cold)))
	n := 0
	must(t, m.ScanInfo(func(k tiermem.KeyInfo) bool {
		if k.Key == "moved" {
			n++
			if k.Tier != tiermem.Cold || k.Size < 1<<20 {
				t.Errorf("moved: %+v", k)
			}
		}
		return true
	}))
	if n != 1 {
		t.Errorf("moved is in %d tiers", n)
	}
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Cold} { // refused before a byte is read
		if err := m.StoreFrom("big", brokenReader{errors.New("read")}, 1<<30, tiermem.InTier(tr)); !errors.Is(err, tiermem.ErrTooLarge) {
			t.Errorf("a value over %v's budget: %v", tr, err)
		}
	}
	if err := m.StoreFrom("", bytes.NewReader(nil), 0); !errors.Is(err, tiermem.ErrInvalidKey) {
		t.Errorf("an empty key: %v", err)
	}
	noStaged(t, dir)
	// The streamed values survive a reopen.
	must(t, m.Close())
	m = openIn(t, dir)
	if got, err := m.Retrieve("moved"); err != nil || !bytes.Equal(got, value) {
		t.Errorf("moved after a reopen: %d bytes, %v", len(got), err)
	}
}

type brokenReader struct{ err error }

func (r brokenReader) Read([]byte) (int, error) { return 0, r.err }

// TestStoreFromShort: a stream that ends early or fails stores nothing,
// streamed or read into memory.
func TestStoreFromShort(t *testing.T) {
	dir := t.TempDir()
	m := openIn(t, dir)
	for _, tier := range []tiermem.Tier{tiermem.Hot, tiermem.Cold} {
		key := "k" + tier.String()
		must(t, m.Store(key, []byte("old"), tiermem.InTier(tier)))
		for _, tc := range []struct {
			r    io.Reader
			want error
		}{
			{bytes.NewReader(noise(100 << 10)), io.ErrUnexpectedEOF},
			{io.MultiReader(bytes.NewReader(noise(300<<10)), brokenReader{syscall.ECONNRESET}), syscall.ECONNRESET},
		} {
			err := m.StoreFrom(key, tc.r, 500<<10, tiermem.InTier(tier))
			if !errors.Is(err, tc.want) {
				t.Errorf("%v: %v, want %v", tier, err, tc.want)
			}
			if got, err := m.Retrieve(key); err != nil || string(got) != "old" {
				t.Errorf("%v: %q, %v after a failed StoreFrom", tier, got, err)
			}
		}
	}
	noStaged(t, dir)
}

// gatedReader gives its first n bytes, then waits for release.
type gatedReader struct {
	r       io.Reader
	n       int
	reached chan struct{}
	release chan struct{}
	once    sync.Once
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if g.n == 0 {
		g.once.Do(func() { close(g.reached) })
		<-g.release
		return g.r.Read(p)
	}
	n, err := g.r.Read(p[:min(len(p), g.n)])
	g.n -= n
	return n, err
}

// TestStoreFromCloseInTheMiddle: Close does not wait for a slow stream,
// and the StoreFrom then fails with ErrClosed, storing nothing.
func TestStoreFromCloseInTheMiddle(t *testing.T) {
	dir := t.TempDir()
	m := openIn(t, dir)
	must(t, m.Store("k", []byte("old"), tiermem.InTier(tiermem.Cold)))
	value := noise(4 << 20)
	g := &gatedReader{r: bytes.NewReader(value), n: 1 << 20, reached: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error)
	go func() { done <- m.StoreFrom("k", g, int64(len(value)), tiermem.InTier(tiermem.Cold)) }()
	<-g.reached
	closed := make(chan error)
	go func() { closed <- m.Close() }()
	select {
	case err := <-closed:
		must(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("Close waits for a slow stream")
	}
	close(g.release)
	if err := <-done; !errors.Is(err, tiermem.ErrClosed) {
		t.Errorf("StoreFrom across Close: %v", err)
	}
	noStaged(t, dir)
	m = openIn(t, dir)
	if got, err := m.Retrieve("k"); err != nil || string(got) != "old" {
		t.Errorf("k after the reopen: %q, %v", got, err)
	}
}

// TestStoreFromConcurrent: streamed Stores, Stores, Moves and Deletes of
// the same keys at once: every read is one of the values written, whole.
func TestStoreFromConcurrent(t *testing.T) {
	dir := t.TempDir()
	storeFromConcurrently(t, openIn(t, dir), tiermem.Cold, 15)
	noStaged(t, dir)
}

// storeFromConcurrently runs 4 goroutines of rounds each that StoreFrom
// into tier (and Store with the placement it gives), Move to warm and
// Delete 3 keys, reading each back: every read must be a value written.
func storeFromConcurrently(t *testing.T, m *tiermem.Manager, tier tiermem.Tier, rounds int) {
	values := [][]byte{noise(200 << 10), noise(80 << 10), []byte("short")}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range rounds {
				key := fmt.Sprint("k", i%3)
				v := values[(w+i)%len(values)]
				switch (w + i) % 4 {
				case 0, 1:
					must(t, m.StoreFrom(key, bytes.NewReader(v), int64(len(v)), tiermem.InTier(tier)))
				case 2:
					if tier == tiermem.Cold {
						must(t, m.Store(key, v))
					} else {
						must(t, m.Store(key, v, tiermem.InTier(tier)))
					}
				case 3:
					m.Move(key, tiermem.Warm)
					if i%5 == 0 {
						m.Delete(key)
					}
				}
				if got, err := m.Retrieve(key); err == nil && !containsValue(values, got) {
					t.Errorf("%s: %d bytes that were never written", key, len(got))
				}
			}
		})
	}
	wg.Wait()
}

func containsValue(vs [][]byte, b []byte) bool {
	for _, v := range vs {
		if bytes.Equal(v, b) {
			return true
		}
	}
	return false
}

// TestStoreFromBoundedMemory: a 48 MiB value streamed to cold allocates a
// few MiB of Go memory, not 48.
func TestStoreFromBoundedMemory(t *testing.T) {
	m := openIn(t, t.TempDir())
	const size = 48 << 20
	src := io.LimitReader(rand.Reader, size)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	must(t, m.StoreFrom("big", src, size, tiermem.InTier(tiermem.Cold)))
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("a streamed %d MiB value: %.2f MiB allocated", size>>20, float64(alloc)/(1<<20))
	if alloc > 8<<20 {
		t.Errorf("a streamed %d MiB value allocated %.1f MiB", size>>20, float64(alloc)/(1<<20))
	}
	if v, err := m.Retrieve("big"); err != nil || len(v) != size {
		t.Errorf("big: %d bytes, %v", len(v), err)
	}
}

// TestStoreFromHotHoldsTheValueOnce: a value streamed into the hot tier
// is read straight into the memory the tier keeps, so storing 48 MiB
// allocates about 48 MiB, not twice that (a buffer, then the tier's copy);
// with Durability Always its copy in the cold log is the same bytes.
func TestStoreFromHotHoldsTheValueOnce(t *testing.T) {
	for _, d := range []tiermem.Durability{tiermem.None, tiermem.Always} {
		t.Run(d.String(), func(t *testing.T) {
			m := open(t, &tiermem.Options{Durability: d, MigrateInterval: -1,
				Hot: tiermem.TierOptions{Size: 128 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
				Cold: tiermem.TierOptions{Size: 256 << 20}})
			const size = 48 << 20
			value := noise(size)
			must(t, m.Store("big", []byte("old"), tiermem.InTier(tiermem.Hot)))
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			must(t, m.StoreFrom("big", bytes.NewReader(value), size))
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("a %d MiB value streamed into hot: %.2f MiB allocated", size>>20, float64(alloc)/(1<<20))
			if alloc > size+size/4 {
				t.Errorf("a %d MiB value streamed into hot allocated %.1f MiB: it was copied", size>>20, float64(alloc)/(1<<20))
			}
			if tierOf(t, m, "big") != tiermem.Hot {
				t.Fatalf("big went to %v", tierOf(t, m, "big"))
			}
			if got, err := m.Retrieve("big"); err != nil || !bytes.Equal(got, value) {
				t.Fatalf("big: %d bytes, %v", len(got), err)
			}
			if d != tiermem.None {
				must(t, m.Move("big", tiermem.Cold)) // drops the hot copy: the log's is read
				if got, err := m.Retrieve("big"); err != nil || !bytes.Equal(got, value) {
					t.Fatalf("big from the cold log: %d bytes, %v", len(got), err)
				}
			}
		})
	}
}

// TestStoreFromHotConcurrent: values streamed into the hot tier while
// Stores, Moves and Deletes of the same keys run (with -race): every read
// is one of the values written, whole.
func TestStoreFromHotConcurrent(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 2 << 20},
		Warm: tiermem.TierOptions{Size: 4 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}})
	storeFromConcurrently(t, m, tiermem.Hot, 40)
}
