package bundle

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/cespare/xxhash/v2"
)

// fuzzKeys are looked up in every fuzzed bundle; the seeds hold them.
var fuzzKeys = []string{"key-0", "key-1", "key-7", "key-12", "a key over the inline width", "", "absent"}

// fuzzSeeds returns small valid bundles of each kind, with direct and
// indirect entries, and the version 1 files of testdata, the starting points
// the fuzzer mutates.
func fuzzSeeds(f *testing.F) [][]byte {
	f.Helper()
	recs := []Record{
		{Key: []byte("key-0"), Value: []byte("value zero, long enough to dedup"), Meta: []byte("m")},
		{Key: []byte("key-1"), Value: []byte("value zero, long enough to dedup")},
		{Key: []byte("key-7"), Value: []byte("seven")},
		{Key: []byte("key-12"), Meta: []byte("meta")},
		{Key: []byte("key-7"), Value: []byte("another seven")},
		{Key: []byte("a key over the inline width"), Value: []byte("value zero, long enough to dedup")},
	}
	long := []Record{{Key: []byte("a key over the inline width"), Value: []byte("v")}, {Key: []byte{}, Value: []byte("empty key")}}
	var seeds [][]byte
	for i, opts := range []Options{{}, {Index: Multi, Align: 1}, {Index: Approximate}, {Streamed: true}, {Align: 2}} {
		if i == 4 {
			recs = long // 16-byte entries with an indirect and a direct entry
		}
		seeds = append(seeds, seedFile(f, filepath.Join(f.TempDir(), "seed"), recs, opts))
	}
	for _, kind := range []string{"exact", "multi", "approximate"} {
		b, err := os.ReadFile("testdata/v1-" + kind + ".bundle")
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

// seedFile builds a bundle of recs and returns its bytes.
func seedFile(f *testing.F, path string, recs []Record, opts Options) []byte {
	_, err := BuildRecords(path, func(yield func(Record, error) bool) {
		for _, r := range recs {
			yield(r, nil)
		}
	}, &opts)
	if err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzOpen opens mutated bundle files: every corruption must be an error
// (ErrCorrupt, or ErrVersion for a version field), never a panic, never a
// read outside the mapping (slices into the mapping are bounded by it, so
// such a read would panic). With resealed set, the checksums are recomputed
// after the mutation, so that the fuzzer reaches the structural checks and
// the lookups behind them instead of stopping at a checksum mismatch.
func FuzzOpen(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s, false)
		f.Add(s, true)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, resealed bool) {
		if resealed {
			resealAny(data)
		}
		path := filepath.Join(dir, "fuzz.bundle")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		b, err := Open(path)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
				t.Fatalf("Open error %v is neither ErrCorrupt nor ErrVersion", err)
			}
			return
		}
		defer b.Close()
		if resealed {
			b.ReleaseBehind() // the same reads, dropping pages as they go
		}
		exercise(t, b)
	})
}

// exercise reads everything a bundle offers; errors must be ErrCorrupt.
func exercise(t *testing.T, b *Bundle) {
	check := func(err error) {
		if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotFound) {
			t.Fatalf("error %v is not ErrCorrupt", err)
		}
	}
	for _, k := range fuzzKeys {
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
}

// resealAny recomputes what checksums of b it can, whatever b holds.
func resealAny(b []byte) {
	if len(b) < headerSize {
		return
	}
	le := binary.LittleEndian
	n := int(le.Uint16(b[hSections:]))
	if n > maxSections || headerSize+sectionSize*n > len(b) {
		return
	}
	for i := range n {
		p := b[headerSize+sectionSize*i:]
		off, size := le.Uint64(p[8:]), le.Uint64(p[16:])
		if off <= uint64(len(b)) && size <= uint64(len(b))-off {
			le.PutUint64(p[24:], xxhash.Sum64(b[off:off+size]))
		}
	}
	le.PutUint64(b[hChecksum:], headerSum(b[:headerSize+sectionSize*n]))
}
