package bundle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// hostileSeeds builds small bundles of every kind.
func hostileSeeds(t *testing.T) [][]byte {
	recs := []Record{
		{Key: []byte("key-0"), Value: []byte("value zero, long enough to dedup"), Meta: []byte("m")},
		{Key: []byte("key-1"), Value: []byte("value zero, long enough to dedup")},
		{Key: []byte("key-7"), Value: []byte("seven")},
		{Key: []byte("key-12"), Meta: []byte("meta")},
		{Key: []byte("key-7"), Value: []byte("another seven")},
		{Key: []byte("a key over the inline width"), Value: []byte("value zero, long enough to dedup")},
	}
	for i := range 100 {
		recs = append(recs, Record{Key: fmt.Appendf(nil, "bulk-%d", i), Value: fmt.Appendf(nil, "v%d", i%7)})
	}
	var seeds [][]byte
	for i, opts := range []Options{{}, {Index: Multi, Align: 1}, {Index: Approximate}, {Streamed: true}} {
		path := filepath.Join(t.TempDir(), fmt.Sprint("seed", i))
		if _, err := BuildRecords(path, func(yield func(Record, error) bool) {
			for _, r := range recs {
				yield(r, nil)
			}
		}, &opts); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

// tryBundle writes data, opens it and reads everything; any panic or error
// that is not ErrCorrupt/ErrVersion/ErrNotFound is reported with what.
func tryBundle(t *testing.T, path string, data []byte, what string) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r != nil {
			buf := make([]byte, 4096)
			buf = buf[:runtime.Stack(buf, false)]
			t.Fatalf("%s: panic %v\n%s", what, r, buf)
		}
	}()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b, err := Open(path)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
			t.Fatalf("%s: Open error %v is neither ErrCorrupt nor ErrVersion", what, err)
		}
		return
	}
	defer b.Close()
	check := func(err error) {
		if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s: error %v is not ErrCorrupt", what, err)
		}
	}
	for _, k := range []string{"key-0", "key-1", "key-7", "key-12", "a key over the inline width", "", "absent", "bulk-3"} {
		_, err := b.Get([]byte(k))
		check(err)
		_, err = b.GetRecord([]byte(k))
		check(err)
		for _, err := range b.Values([]byte(k)) {
			check(err)
		}
	}
	for _, err := range b.All() {
		check(err)
	}
	check(b.Verify())
	_ = b.Info()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 64<<20 {
		t.Errorf("%s: reading a %d-byte file allocated %d bytes", what, len(data), grown)
	}
}

// Every byte and every 64-bit field of the header and section table, set
// to hostile values, resealed so that the checksums pass.
func TestHostileMutateHeaderFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.bundle")
	for si, seed := range hostileSeeds(t) {
		n := headerSize + sectionSize*int(binary.LittleEndian.Uint16(seed[hSections:]))
		size := uint64(len(seed))
		for off := 0; off < n; off++ {
			if off >= hChecksum && off < hChecksum+8 {
				continue
			}
			for _, v := range []byte{0, 1, 2, 3, 0x10, 0x7f, 0x80, 0xfe, 0xff, seed[off] ^ 1, seed[off] + 1, seed[off] - 1} {
				data := append([]byte(nil), seed...)
				data[off] = v
				resealAny(data)
				tryBundle(t, path, data, fmt.Sprintf("seed %d byte %d = %#x", si, off, v))
			}
		}
		for off := 24; off+8 <= n; off += 8 {
			if off == hChecksum {
				continue
			}
			orig := binary.LittleEndian.Uint64(seed[off:])
			for _, v := range []uint64{0, 1, math.MaxUint64, math.MaxInt64, math.MaxInt64 + 1, size, size - 1, size + 1, orig * 2, orig + 8, orig - 8, orig + 128, orig - 128, orig / 2, 1 << 40} {
				data := append([]byte(nil), seed...)
				binary.LittleEndian.PutUint64(data[off:], v)
				resealAny(data)
				tryBundle(t, path, data, fmt.Sprintf("seed %d u64 at %d = %d", si, off, v))
			}
		}
	}
}

// Random mutations anywhere in the file (index and data included), resealed.
func TestHostileMutateAnywhere(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.bundle")
	rng := rand.New(rand.NewPCG(7, 7))
	for si, seed := range hostileSeeds(t) {
		for i := range 500 {
			data := append([]byte(nil), seed...)
			for range 1 + rng.IntN(4) {
				p := rng.IntN(len(data))
				switch rng.IntN(3) {
				case 0:
					data[p] = byte(rng.Uint32())
				case 1:
					if p+8 <= len(data) {
						binary.LittleEndian.PutUint64(data[p:], rng.Uint64()>>rng.IntN(64))
					}
				case 2:
					data[p] ^= 1 << rng.IntN(8)
				}
			}
			resealAny(data)
			tryBundle(t, path, data, fmt.Sprintf("seed %d mutation %d", si, i))
		}
	}
}
