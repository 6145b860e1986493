package disk_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// TestViewStoredHandsOutVerifiedStoredBytes: a compressible value comes
// out as the zstd frame the store keeps, which decodes to the value; an
// incompressible one as itself; a missing key is ErrNotFound.
func TestViewStoredHandsOutVerifiedStoredBytes(t *testing.T) {
	s := openStore(t, "", nil)
	text := bytes.Repeat([]byte("a value that compresses well. "), 200)
	noise := make([]byte, 4096)
	for i := range noise {
		noise[i] = byte(rand.Uint32())
	}
	s.Put("text", text, []byte("m1"))
	s.Put("noise", noise, []byte("m2"))
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	for key, want := range map[string][]byte{"text": text, "noise": noise} {
		err := s.ViewStored(key, func(v tier.Stored) error {
			got := v.Value
			if v.Zstd {
				if got, err = dec.DecodeAll(v.Value, nil); err != nil {
					return err
				}
			}
			if !bytes.Equal(got, want) || v.RawLen != int64(len(want)) || len(v.Meta) != 2 {
				t.Errorf("%s: zstd %v, %d bytes decoding to %d, raw %d, meta %q", key, v.Zstd, len(v.Value), len(got), v.RawLen, v.Meta)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if key == "text" && s.ViewStored(key, func(v tier.Stored) error {
			if !v.Zstd {
				t.Error("a value that compresses well is not stored as zstd")
			}
			return nil
		}) != nil {
			t.Fatal("second view failed")
		}
	}
	if err := s.ViewStored("missing", func(tier.Stored) error { return nil }); !errors.Is(err, tier.ErrNotFound) {
		t.Fatalf("missing key: %v", err)
	}
}

// TestViewStoredOfAFlippedByteIsCorrupt: the stored bytes are checked
// before they are handed out.
func TestViewStoredOfAFlippedByteIsCorrupt(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, &disk.Options{Compression: disk.NoCompression})
	value := bytes.Repeat([]byte{0x5a}, 1000)
	s.Put("k", value, nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	segs := mustGlob(t, filepath.Join(dir, "*.seg"))
	b, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	flipByte(t, segs[0], int64(bytes.Index(b, value)+500))
	s = openStore(t, dir, nil)
	called := false
	err = s.ViewStored("k", func(tier.Stored) error { called = true; return nil })
	if !errors.Is(err, tier.ErrCorrupt) || called {
		t.Fatalf("ViewStored of a flipped value: %v (fn called: %v)", err, called)
	}
}
