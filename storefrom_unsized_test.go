package tiermem_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/zeebo/xxh3"

	"github.com/tiermem/tiermem"
)

// TestStoreFromUnknownLength: a stream whose length is not known ahead
// (size -1) is stored whole, where a Store of its bytes would go or in the
// tier named, and leaves no staging file behind.
func TestStoreFromUnknownLength(t *testing.T) {
	dir := t.TempDir()
	m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1,
		Hot: tiermem.TierOptions{Size: 8 << 20}, Warm: tiermem.TierOptions{Size: 8 << 20}, Cold: tiermem.TierOptions{Size: 256 << 20}})
	must(t, err)
	defer m.Close()
	for i, c := range []struct {
		name string
		size int
		opts []tiermem.StoreOption
		want tiermem.Tier
	}{
		{"empty", 0, nil, tiermem.Hot},
		{"small", 100, nil, tiermem.Hot},
		{"one buffer and a byte", 1<<20 + 1, []tiermem.StoreOption{tiermem.InTier(tiermem.Warm)}, tiermem.Warm},
		{"over the memory tiers", 20 << 20, nil, tiermem.Cold},
		{"named cold", 3 << 20, []tiermem.StoreOption{tiermem.InTier(tiermem.Cold)}, tiermem.Cold},
		{"glacier", 5000, []tiermem.StoreOption{tiermem.InTier(tiermem.Glacier)}, tiermem.Glacier},
	} {
		value := seededNoise(c.size, byte(i+1))
		// iotest.OneByteReader would be slow: a reader of odd-sized pieces.
		if err := m.StoreFrom(c.name, &pieces{r: bytes.NewReader(value)}, -1, c.opts...); err != nil {
			t.Fatalf("%s: StoreFrom of unknown length: %v", c.name, err)
		}
		v, err := m.OpenValue(c.name)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := make([]byte, v.Size())
		v.ReadAt(got, 0)
		v.Close()
		if !bytes.Equal(got, value) || v.Checksum() != xxh3.Hash(value) || v.Tier() != c.want {
			t.Errorf("%s: %d bytes in %v (want %d in %v), equal %v", c.name, len(got), v.Tier(), len(value), c.want, bytes.Equal(got, value))
		}
	}
	noStagingFiles(t, dir)
}

// pieces reads its reader in pieces of 1 to 100,000 bytes.
type pieces struct {
	r io.Reader
	n int
}

func (p *pieces) Read(b []byte) (int, error) {
	p.n = (p.n*7919 + 13) % 100_000
	return p.r.Read(b[:min(len(b), p.n+1)])
}

// noStagingFiles fails the test if a staging file is left in the cold
// tier's directory.
func noStagingFiles(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(dir, "cold"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "stage-") {
			t.Errorf("staging file %s left behind", e.Name())
		}
	}
}

// TestStoreFromUnknownLengthFails: a stream of unknown length that fails,
// in its first piece or late, stores nothing: the key keeps its value and
// no staging file is left; a refusal of its tier (too large for it) too.
func TestStoreFromUnknownLengthFails(t *testing.T) {
	dir := t.TempDir()
	m, err := tiermem.Open(dir, &tiermem.Options{MigrateInterval: -1,
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 16 << 20}})
	must(t, err)
	defer m.Close()
	must(t, m.Store("k", []byte("old")))
	broken := errors.New("the client went away")
	for _, r := range []io.Reader{
		brokenReader{broken},
		io.MultiReader(bytes.NewReader(make([]byte, 3<<20)), brokenReader{broken}),
		// A reader cut short says so with io.ErrUnexpectedEOF (an HTTP
		// body cut in a chunk): that is no end of the stream.
		io.MultiReader(bytes.NewReader(make([]byte, 100)), brokenReader{io.ErrUnexpectedEOF}),
		io.MultiReader(bytes.NewReader(make([]byte, 1<<20)), brokenReader{io.ErrUnexpectedEOF}),
	} {
		if err := m.StoreFrom("k", r, -1); err == nil {
			t.Errorf("a stream that fails was stored")
		}
	}
	if err := m.StoreFrom("k", bytes.NewReader(make([]byte, 2<<20)), -1, tiermem.InTier(tiermem.Hot)); !errors.Is(err, tiermem.ErrTooLarge) {
		t.Errorf("2 MiB of unknown length into a 1 MiB hot tier: %v, want ErrTooLarge", err)
	}
	if v, err := m.Retrieve("k"); err != nil || string(v) != "old" {
		t.Errorf("after failed streams: %q, %v; want the old value", v, err)
	}
	for level, u := range m.Usage() {
		if u.Streaming != 0 {
			t.Errorf("%v: %d bytes held for streams", level, u.Streaming)
		}
	}
	noStagingFiles(t, dir)
}

// TestStoreFromUnknownLengthMemory: 64 MiB of unknown length into cold is
// staged through a bounded buffer, not held in memory.
func TestStoreFromUnknownLengthMemory(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1,
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 1 << 20}, Cold: tiermem.TierOptions{Size: 256 << 20}})
	const n = 64 << 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	must(t, m.StoreFrom("big", io.LimitReader(zeros{}, n), -1))
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("a 64 MiB stream of unknown length allocated %d MiB", alloc>>20)
	}
	if tr := tierOf(t, m, "big"); tr != tiermem.Cold {
		t.Errorf("in %v, want cold", tr)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }
