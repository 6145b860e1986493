package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestHostileUnsizedStoreFromSmallColdBudget: a cold budget under 1 MiB
// still takes a stream of unknown length of a few bytes; the staging room
// must not ask for a whole staging buffer's worth up front.
func TestHostileUnsizedStoreFromSmallColdBudget(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 512 << 10}, Glacier: tiermem.GlacierOptions{Disabled: true}})
	must(t, err)
	defer m.Close()
	if err := m.StoreFrom("k", strings.NewReader("hello"), -1); err != nil {
		t.Fatalf("StoreFrom(-1) of 5 bytes with a 512 KiB cold budget: %v", err)
	}
	if v, err := m.Retrieve("k"); err != nil || string(v) != "hello" {
		t.Errorf("Retrieve: %q, %v", v, err)
	}
}

// TestHostileUnsizedStoreFromNearColdBudget: a stream of unknown length
// smaller than the cold budget is not ErrTooLarge (the docs: only one
// larger than the whole budget is).
func TestHostileUnsizedStoreFromNearColdBudget(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 64 << 20},
		Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 5 << 19}, Glacier: tiermem.GlacierOptions{Disabled: true}})
	must(t, err)
	defer m.Close()
	value := seededNoise(2200<<10, 7) // 2.15 MiB, the cold budget is 2.5 MiB
	if err := m.StoreFrom("k", bytes.NewReader(value), -1); err != nil {
		t.Fatalf("StoreFrom(-1) of %d bytes with a cold budget of %d: %v", len(value), 5<<19, err)
	}
	if v, err := m.Retrieve("k"); err != nil || !bytes.Equal(v, value) {
		t.Errorf("Retrieve: %d bytes, %v", len(v), err)
	}
}

// rsSlow sends its bytes, then waits for release before it ends.
type rsSlow struct {
	data    []byte
	sent    bool
	started *sync.WaitGroup
	release chan struct{}
}

func (s *rsSlow) Read(p []byte) (int, error) {
	if !s.sent {
		s.sent = true
		s.started.Done()
		return copy(p, s.data), nil
	}
	<-s.release
	return 0, io.EOF
}

// TestHostileConcurrentSmallUnsizedStreams: six uploads of 100 bytes each,
// sent in chunks at the same time, fit a 4 MiB cold budget many times
// over; none may fail with ErrNoSpace because the others hold whole
// megabytes of staging room each.
func TestHostileConcurrentSmallUnsizedStreams(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 4 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true}})
	must(t, err)
	defer m.Close()
	const n = 6
	var started sync.WaitGroup
	release := make(chan struct{})
	errs := make(chan error, n)
	for i := range n {
		started.Add(1)
		r := &rsSlow{data: bytes.Repeat([]byte{byte('a' + i)}, 100), started: &started, release: release}
		go func() {
			err := m.StoreFrom(fmt.Sprintf("k%d", i), r, -1)
			if err != nil && !r.sent {
				started.Done() // failed before its first read
			}
			errs <- err
		}()
	}
	started.Wait()
	close(release)
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("one of %d concurrent 100-byte streams into a 4 MiB cold budget: %v", n, err)
		}
	}
	for level, u := range m.Usage() {
		if u.Streaming != 0 {
			t.Errorf("%v: %d bytes still held for streams", level, u.Streaming)
		}
	}
}

// TestHostileStoreManyReplacesInAFullLastTier: with the cold tier the last
// and full, a Store that replaces a key's value with one of the same size
// succeeds (the old value's room is counted); StoreMany of that one pair,
// which the docs say reserves room "as a Store reserves it", must too.
func TestHostileStoreManyReplacesInAFullLastTier(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 1 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true}})
	must(t, err)
	defer m.Close()
	value := bytes.Repeat([]byte("v"), 10<<10)
	n := 0
	for ; ; n++ {
		err := m.Store(fmt.Sprintf("k%d", n), value, tiermem.InTier(tiermem.Cold))
		if errors.Is(err, tiermem.ErrNoSpace) {
			break
		}
		must(t, err)
	}
	if n == 0 {
		t.Fatal("nothing fit the cold tier")
	}
	if err := m.Store("k0", value, tiermem.InTier(tiermem.Cold)); err != nil {
		t.Fatalf("Store replacing k0 in the full cold tier: %v", err)
	}
	if err := m.StoreMany([][]byte{[]byte("k0")}, [][]byte{value}, tiermem.InTier(tiermem.Cold)); err != nil {
		t.Errorf("StoreMany replacing k0 with a value of the same size in the full cold tier: %v (Store of the same succeeded)", err)
	}
}

// TestHostileDurableStoreBesideAnUnsizedStream: while a 5-byte upload of
// unknown length is in flight, a durable Store of a few bytes into a
// Manager whose cold budget is 1 MiB succeeds: the stream's staging room
// must cover what it has read, not the whole budget.
func TestHostileDurableStoreBesideAnUnsizedStream(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{MigrateInterval: -1, Durability: tiermem.Always,
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 1 << 20},
		Cold: tiermem.TierOptions{Size: 1 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true}})
	must(t, err)
	defer m.Close()
	var started sync.WaitGroup
	started.Add(1)
	release := make(chan struct{})
	r := &rsSlow{data: []byte("hello"), started: &started, release: release}
	streamed := make(chan error, 1)
	go func() { streamed <- m.StoreFrom("s", r, -1) }()
	started.Wait()
	err = m.Store("x", []byte("small"))
	close(release)
	if err != nil {
		t.Errorf("durable Store of 5 bytes beside a 5-byte stream, cold budget 1 MiB: %v", err)
	}
	if err := <-streamed; err != nil {
		t.Errorf("StoreFrom(-1): %v", err)
	}
}

// TestHostileStoreManyBesidePinnedEntries: the hot tier holds a pinned
// entry and room for one more value; a StoreMany of two values that names
// no tier puts the second one elsewhere at once. It must not wait out the
// Manager's 5-second room wait for room that only its own first value
// holds (a Store that finds every entry pinned fails at once).
func TestHostileStoreManyBesidePinnedEntries(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 64 << 10},
		Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 1 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true}})
	must(t, err)
	defer m.Close()
	must(t, m.Store("p", bytes.Repeat([]byte("p"), 30<<10), tiermem.InTier(tiermem.Hot), tiermem.Pinned()))
	v := bytes.Repeat([]byte("v"), 20<<10)
	start := time.Now()
	err = m.StoreMany([][]byte{[]byte("a"), []byte("b")}, [][]byte{v, v})
	took := time.Since(start)
	if err != nil {
		t.Fatalf("StoreMany: %v", err)
	}
	if took > 3*time.Second {
		t.Errorf("StoreMany of two 20 KiB values beside a pinned entry took %v: it waited for room it held itself", took)
	}
	for _, k := range []string{"a", "b"} {
		if got, err := m.Retrieve(k); err != nil || !bytes.Equal(got, v) {
			t.Errorf("%s: %d bytes, %v", k, len(got), err)
		}
	}
}

// rsChunks sends n bytes in 64 KiB reads, then waits for release before
// it ends; sent is closed once all n are read.
type rsChunks struct {
	n       int
	sent    chan struct{}
	release chan struct{}
}

func (c *rsChunks) Read(p []byte) (int, error) {
	if c.n == 0 {
		if c.sent != nil {
			close(c.sent)
			c.sent = nil
		}
		<-c.release
		return 0, io.EOF
	}
	k := min(len(p), c.n, 64<<10)
	clear(p[:k])
	c.n -= k
	return k, nil
}

// TestHostileUnsizedStreamsToHotStayInItsBudget: the docs promise that a
// stream of unknown length keeps memory "bounded as for a known length",
// where the room of a stream bound for the hot tier is reserved in the
// hot budget before it is read. Six chunked uploads of 6 MiB each named
// for an 8 MiB hot tier must not hold 36 MiB of Go heap at once.
func TestHostileUnsizedStreamsToHotStayInItsBudget(t *testing.T) {
	const budget = 8 << 20
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{MigrateInterval: -1, KeepMemoryLimit: true,
		Hot: tiermem.TierOptions{Size: budget}, Warm: tiermem.TierOptions{Size: 64 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true}})
	must(t, err)
	defer m.Close()
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	release := make(chan struct{})
	const n = 6
	errs := make(chan error, n)
	var sent []chan struct{}
	for i := range n {
		c := &rsChunks{n: 6 << 20, sent: make(chan struct{}), release: release}
		sent = append(sent, c.sent)
		go func() { errs <- m.StoreFrom(fmt.Sprintf("k%d", i), c, -1, tiermem.InTier(tiermem.Hot)) }()
	}
	timeout := time.After(8 * time.Second)
	read := 0
wait:
	for _, s := range sent {
		select {
		case <-s:
			read++
		case <-timeout:
			break wait // the others wait for room: as they should
		}
	}
	var during runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&during)
	close(release)
	for range n {
		<-errs // ErrNoSpace for those the budget cannot take is fine
	}
	if grew := int64(during.HeapAlloc) - int64(before.HeapAlloc); grew > 2*budget {
		t.Errorf("%d chunked 6 MiB streams named for an 8 MiB hot tier held %d MiB of Go heap at once (%d read whole)",
			n, grew>>20, read)
	}
}

// TestHostileStoreManyKeepsNoReference (passing; nothing else tests the
// promise): "The Manager keeps no reference to the keys or values past
// the call", and "a key named twice takes its last value", for a few
// pairs (compared in place) and many (the map path). Keys and values are
// slices of one buffer that is overwritten after each call.
func TestHostileStoreManyKeepsNoReference(t *testing.T) {
	m := smallNoGlacier(t, t.TempDir(), tiermem.Always)
	defer m.Close()
	for _, n := range []int{10, 40, 200} {
		buf := make([]byte, 0, 1<<16)
		var keys, vals [][]byte
		for i := range n {
			s := len(buf)
			buf = fmt.Appendf(buf, "k%d", i%(n/2))
			keys = append(keys, buf[s:len(buf):len(buf)])
			s = len(buf)
			buf = fmt.Appendf(buf, "v%d-%d", n, i)
			vals = append(vals, buf[s:len(buf):len(buf)])
		}
		must(t, m.StoreMany(keys, vals))
		clear(buf)
		for i := range n / 2 {
			got, err := m.Retrieve(fmt.Sprintf("k%d", i))
			if want := fmt.Sprintf("v%d-%d", n, i+n/2); err != nil || string(got) != want {
				t.Errorf("%d pairs, k%d: %q, %v; want %q", n, i, got, err, want)
			}
		}
		must(t, m.ScanInfo(func(k tiermem.KeyInfo) bool {
			if !strings.HasPrefix(k.Key, "k") {
				t.Errorf("%d pairs: a key %q changed with the caller's buffer", n, k.Key)
			}
			return true
		}))
	}
}
