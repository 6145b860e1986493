package disk_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// randomValue returns n bytes that do not compress, seeded by seed.
func randomValue(n int, seed byte) []byte {
	v := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(v)
	return v
}

// readAll reads v whole through ReadAt in pieces of piece bytes.
func readAll(t *testing.T, v *disk.RawValue, piece int) []byte {
	t.Helper()
	out := make([]byte, 0, v.Size())
	buf := make([]byte, piece)
	for off := int64(0); ; {
		n, err := v.ReadAt(buf, off)
		out = append(out, buf[:n]...)
		off += int64(n)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("ReadAt(%d): %v", off, err)
		}
	}
}

func TestOpenRawReadsTheValueInPieces(t *testing.T) {
	s := openStore(t, "", nil)
	want := randomValue(3<<20+17, 1)
	if _, err := s.Put("big", want, []byte("meta")); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	v, ok, err := s.OpenRaw("big")
	if err != nil || !ok {
		t.Fatalf("OpenRaw: %v, %v", ok, err)
	}
	defer v.Close()
	if err := v.Verify(); err != nil {
		t.Fatal(err)
	}
	if v.Size() != int64(len(want)) || string(v.Meta()) != "meta" {
		t.Fatalf("Size %d, Meta %q", v.Size(), v.Meta())
	}
	for _, piece := range []int{1 << 20, 4096, 999} {
		if got := readAll(t, v, piece); !bytes.Equal(got, want) {
			t.Fatalf("pieces of %d: %d bytes read, not the value", piece, len(got))
		}
	}
	if n, err := v.ReadAt(make([]byte, 10), v.Size()); n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("ReadAt at the end: %d, %v", n, err)
	}
	if _, err := v.ReadAt(make([]byte, 10), -1); err == nil {
		t.Error("ReadAt at -1: no error")
	}
}

func TestOpenRawDeclines(t *testing.T) {
	s := openStore(t, "", nil)
	if _, _, err := s.OpenRaw("absent"); !errors.Is(err, tier.ErrNotFound) {
		t.Errorf("absent key: %v", err)
	}
	if _, err := s.Put("text", bytes.Repeat([]byte("compressible "), 10_000), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put("small", randomValue(1000, 2), nil); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.OpenRaw("text"); ok || err != nil {
		t.Errorf("compressed value: %v, %v; want declined", ok, err)
	}
	if _, ok, err := s.OpenRaw("small"); ok || err != nil {
		t.Errorf("value in the write buffer: %v, %v; want declined", ok, err)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	v, ok, err := s.OpenRaw("small")
	if !ok || err != nil {
		t.Fatalf("after Sync: %v, %v", ok, err)
	}
	v.Close()
	v.Close() // a second Close does nothing
	if _, err := v.ReadAt(make([]byte, 1), 0); err == nil {
		t.Error("ReadAt after Close: no error")
	}
}

// TestOpenRawOutlivesTheKeyAndTheStore replaces and deletes the key,
// compacts its segment away and closes the store while a RawValue is
// open: it still reads the value it opened.
func TestOpenRawOutlivesTheKeyAndTheStore(t *testing.T) {
	dir := t.TempDir()
	s, err := disk.Open(dir, &disk.Options{SegmentSize: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	want := randomValue(5<<20, 3)
	if _, err := s.Put("k", want, nil); err != nil {
		t.Fatal(err)
	}
	s.Sync()
	v, ok, err := s.OpenRaw("k")
	if !ok || err != nil {
		t.Fatalf("OpenRaw: %v, %v", ok, err)
	}
	defer v.Close()
	for i := range 3 {
		if _, err := s.Put("k", randomValue(5<<20, byte(10+i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Delete("k"); err != nil {
		t.Fatal(err)
	}
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, v, 1<<20); !bytes.Equal(got, want) {
		t.Fatal("the open value changed under its RawValue")
	}
}

// TestOpenRawFindsAFlippedBit flips one bit of a stored value in its
// segment file: OpenRaw must say ErrCorrupt, not hand out the bytes.
func TestOpenRawFindsAFlippedBit(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, nil)
	want := randomValue(2<<20, 4)
	if _, err := s.Put("k", want, nil); err != nil {
		t.Fatal(err)
	}
	s.Sync()
	files, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	flipped := false
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if i := bytes.Index(b, want[:64]); i >= 0 {
			b[i+1<<20] ^= 0x10
			if err := os.WriteFile(f, b, 0o644); err != nil {
				t.Fatal(err)
			}
			flipped = true
		}
	}
	if !flipped {
		t.Fatal("the value is in no file of the store")
	}
	v, ok, err := s.OpenRaw("k")
	if !ok || err != nil {
		t.Fatalf("OpenRaw: %v, %v", ok, err)
	}
	defer v.Close()
	if err := v.Verify(); !errors.Is(err, tier.ErrCorrupt) {
		t.Fatalf("Verify of a flipped value: %v, want ErrCorrupt", err)
	}
}

// TestRawValueReadsRaceClose reads from 4 goroutines while another closes
// the RawValue: every read returns the right bytes or an error, none
// crashes (run under -race).
func TestRawValueReadsRaceClose(t *testing.T) {
	s := openStore(t, "", nil)
	want := randomValue(4<<20, 5)
	s.Put("k", want, nil)
	s.Sync()
	v, ok, err := s.OpenRaw("k")
	if !ok || err != nil {
		t.Fatalf("OpenRaw: %v, %v", ok, err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 64<<10)
			for i := range 200 {
				off := int64((g*200 + i) * 4096 % (4 << 20))
				n, err := v.ReadAt(buf, off)
				if err != nil && !errors.Is(err, io.EOF) {
					return // closed
				}
				if !bytes.Equal(buf[:n], want[off:off+int64(n)]) {
					t.Errorf("ReadAt(%d): wrong bytes", off)
					return
				}
			}
		}()
	}
	v.Close()
	wg.Wait()
}
