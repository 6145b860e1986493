package tiermem_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/zeebo/xxh3"

	"github.com/tiermem/tiermem"
)

// noise returns n incompressible bytes, seeded by seed.
func seededNoise(n int, seed byte) []byte {
	v := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(v)
	return v
}

// flipInSegments flips the bits of mask at offset at of every copy of want
// in dir's cold segment files, and returns how many copies it flipped.
func flipInSegments(t *testing.T, dir string, want []byte, at int, mask byte) int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "cold", "*.seg"))
	flipped := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		must(t, err)
		for from := 0; ; {
			i := bytes.Index(b[from:], want[:64])
			if i < 0 || from+i+len(want) > len(b) {
				break
			}
			b[from+i+at] ^= mask
			flipped++
			from += i + len(want)
		}
		must(t, os.WriteFile(f, b, 0o644))
	}
	return flipped
}

// openUnclosed opens a Manager in dir with a hot budget of hot bytes, 4 MiB
// of warm and 1 GiB of cold, which the test closes itself.
func openUnclosed(t *testing.T, dir string, hot int64) *tiermem.Manager {
	t.Helper()
	m, err := tiermem.Open(dir, &tiermem.Options{Hot: tiermem.TierOptions{Size: hot},
		Warm: tiermem.TierOptions{Size: 4 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}, MigrateInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// readValue reads v whole through ReadAt in pieces of 64 KiB.
func readValue(v *tiermem.ValueReader) ([]byte, error) {
	out := make([]byte, 0, v.Size())
	buf := make([]byte, 64<<10)
	for off := int64(0); ; {
		n, err := v.ReadAt(buf, off)
		out = append(out, buf[:n]...)
		off += int64(n)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func TestOpenValueStreamsColdAndCopiesMemory(t *testing.T) {
	m := open(t, nil)
	big := seededNoise(6<<20, 1)
	if err := m.Store("big", big, tiermem.InTier(tiermem.Cold)); err != nil {
		t.Fatal(err)
	}
	if err := m.Store("small", []byte("hello"), tiermem.InTier(tiermem.Hot)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key      string
		want     []byte
		tier     tiermem.Tier
		streamed bool
	}{
		{"big", big, tiermem.Cold, true},
		{"small", []byte("hello"), tiermem.Hot, false},
	} {
		v, err := m.OpenValue(c.key)
		if err != nil {
			t.Fatalf("OpenValue(%s): %v", c.key, err)
		}
		got, err := readValue(v)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("%s: read %d bytes, %v", c.key, len(got), err)
		}
		if v.Tier() != c.tier || v.Streamed() != c.streamed || v.Size() != int64(len(c.want)) {
			t.Errorf("%s: tier %v, streamed %v, size %d", c.key, v.Tier(), v.Streamed(), v.Size())
		}
		if v.Checksum() != xxh3.Hash(c.want) {
			t.Errorf("%s: checksum %x, want %x", c.key, v.Checksum(), xxh3.Hash(c.want))
		}
		v.Close()
		if _, err := v.ReadAt(make([]byte, 1), 0); err == nil {
			t.Errorf("%s: ReadAt after Close: no error", c.key)
		}
	}
	if _, err := m.OpenValue("absent"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Errorf("absent: %v", err)
	}
	if _, err := m.OpenValue(""); !errors.Is(err, tiermem.ErrInvalidKey) {
		t.Errorf("empty key: %v", err)
	}
}

func TestOpenValueOfAnExpiredColdValue(t *testing.T) {
	clock := tiermem.NewFakeClock()
	o := &tiermem.Options{Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1}
	tiermem.SetClock(o, clock)
	m := open(t, o)
	if err := m.Store("k", seededNoise(4<<20, 2), tiermem.InTier(tiermem.Cold), tiermem.WithTTL(time.Minute)); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)
	if _, err := m.OpenValue("k"); !errors.Is(err, tiermem.ErrNotFound) {
		t.Fatalf("expired: %v, want ErrNotFound", err)
	}
}

// TestOpenValueOutlivesTheKeyAndTheManager deletes the key, stores others
// and closes the Manager while a streamed value is open: it still reads
// what it opened.
func TestOpenValueOutlivesTheKeyAndTheManager(t *testing.T) {
	m := openUnclosed(t, t.TempDir(), 1<<20)
	want := seededNoise(5<<20, 3)
	if err := m.Store("k", want, tiermem.InTier(tiermem.Cold)); err != nil {
		t.Fatal(err)
	}
	v, err := m.OpenValue("k")
	if err != nil || !v.Streamed() {
		t.Fatalf("OpenValue: streamed %v, %v", v != nil && v.Streamed(), err)
	}
	defer v.Close()
	if err := m.Store("k", seededNoise(5<<20, 4), tiermem.InTier(tiermem.Cold)); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete("k"); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := readValue(v); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("after Delete and Close: %d bytes, %v", len(got), err)
	}
}

// TestOpenValueFindsAFlippedBit flips one bit of a cold value in its
// segment file: OpenValue must say ErrCorrupt.
func TestOpenValueFindsAFlippedBit(t *testing.T) {
	dir := t.TempDir()
	m := openUnclosed(t, dir, 1<<20)
	defer m.Close()
	want := seededNoise(3<<20, 5)
	if err := m.Store("k", want, tiermem.InTier(tiermem.Cold)); err != nil {
		t.Fatal(err)
	}
	v, err := m.OpenValue("k") // writes the value out of the cold log's buffer
	if err != nil || !v.Streamed() {
		t.Fatalf("OpenValue before the flip: %v", err)
	}
	v.Close()
	if flipInSegments(t, dir, want, 2<<20, 1) == 0 {
		t.Fatal("the value is in no segment file")
	}
	if v, err := m.OpenValue("k"); !errors.Is(err, tiermem.ErrCorrupt) {
		if v != nil {
			v.Close()
		}
		t.Fatalf("OpenValue of a flipped value: %v, want ErrCorrupt", err)
	}
	// Deferred: the open reads nothing, and no byte comes out after.
	v, err = m.OpenValueDeferred("k")
	if err != nil {
		t.Fatalf("OpenValueDeferred of a flipped value: %v", err)
	}
	defer v.Close()
	if v.Size() != int64(len(want)) || v.Checksum() != xxh3.Hash(want) {
		t.Errorf("OpenValueDeferred: size %d, checksum %x; want %d, %x (as stored)", v.Size(), v.Checksum(), len(want), xxh3.Hash(want))
	}
	for i := range 2 {
		if n, err := v.ReadAt(make([]byte, 10), 0); n != 0 || !errors.Is(err, tiermem.ErrCorrupt) {
			t.Errorf("ReadAt %d of a flipped value: %d bytes, %v; want none, ErrCorrupt", i, n, err)
		}
	}
	if err := v.Verify(); !errors.Is(err, tiermem.ErrCorrupt) {
		t.Errorf("Verify of a flipped value: %v, want ErrCorrupt", err)
	}
}

// TestOpenValueUnderConcurrencyAndClose opens, reads and closes values
// from 3 goroutines while 2 others replace them (in cold and in hot) and
// move them, and the Manager closes in the middle: every read is one of
// the versions stored, whole, or an error that says the Manager closed.
// Every other open is deferred, its first reads racing from two goroutines.
func TestOpenValueUnderConcurrencyAndClose(t *testing.T) {
	m := openUnclosed(t, t.TempDir(), 4<<20)
	versions := map[uint64]bool{}
	value := func(v int) []byte { return seededNoise(1<<20+v*4096, byte(v)) }
	for v := range 16 {
		versions[xxh3.Hash(value(v))] = true
	}
	keys := []string{"a", "b", "c"}
	for _, k := range keys {
		if err := m.Store(k, value(0), tiermem.InTier(tiermem.Cold)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := keys[i%len(keys)]
				tr := []tiermem.Tier{tiermem.Cold, tiermem.Hot}[(i+g)%2]
				err := m.Store(k, value(1+i%15), tiermem.InTier(tr))
				if err == nil && i%3 == 0 {
					err = m.Move(k, tiermem.Warm)
				}
				if err != nil && !errors.Is(err, tiermem.ErrClosed) && !errors.Is(err, tiermem.ErrNotFound) {
					t.Errorf("writer: %v", err)
					return
				}
			}
		}()
	}
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				open := m.OpenValue
				if i%2 == 1 {
					open = m.OpenValueDeferred
				}
				v, err := open(keys[(i+g)%len(keys)])
				if errors.Is(err, tiermem.ErrClosed) {
					continue
				}
				if err != nil {
					t.Errorf("OpenValue: %v", err)
					return
				}
				early := make(chan error, 1)
				go func() { _, err := v.ReadAt(make([]byte, 1), v.Size()-1); early <- err }()
				got, err := readValue(v)
				if err := <-early; err != nil && !errors.Is(err, io.EOF) {
					t.Errorf("a racing ReadAt of the last byte: %v", err)
				}
				v.Close()
				if err != nil || !versions[xxh3.Hash(got)] || v.Checksum() != xxh3.Hash(got) {
					t.Errorf("read %d bytes that are no version stored (streamed %v), %v", len(got), v.Streamed(), err)
					return
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
}
