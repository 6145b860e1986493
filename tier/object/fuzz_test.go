package object

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/zeebo/xxh3"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the fuzz seed corpus in testdata/fuzz")

// seedFrames are frames of every kind and codec.
func seedFrames() map[string][]byte {
	text := bytes.Repeat([]byte("glacier frames are self-describing; "), 40)
	z, codec := compressValue(ZstdFastest, text)
	if codec != codecZstd {
		panic("seed text did not compress")
	}
	frames := map[string]*frame{
		"raw":       {kind: kindValue, codec: codecRaw, key: []byte("k"), meta: []byte("meta"), rawLen: 5, stored: []byte("value")},
		"empty":     {kind: kindValue, codec: codecRaw, key: []byte("empty"), rawLen: 0},
		"zstd":      {kind: kindValue, codec: codecZstd, key: []byte("text"), meta: []byte{1, 2, 3}, rawLen: uint32(len(text)), stored: z},
		"tombstone": {kind: kindTombstone, key: []byte("gone")},
	}
	out := map[string][]byte{}
	for name, f := range frames {
		out[name] = appendFrame(nil, f)
	}
	return out
}

// seedPack returns a pack of the seed frames and its entries.
func seedPack() ([]byte, []entry) {
	b := appendPackHeader(nil, 7)
	var entries []entry
	for _, name := range []string{"raw", "zstd", "tombstone", "empty"} {
		fb := seedFrames()[name]
		e, err := scanFrame(fb)
		if err != nil {
			panic(err)
		}
		e.off = int64(len(b))
		entries = append(entries, e)
		b = append(b, fb...)
	}
	return appendPackEnd(b, len(entries)), entries
}

// seedPackV1 returns the seed pack as version 1 wrote it: no end record.
func seedPackV1() []byte {
	pack, _ := seedPack()
	v1 := bytes.Clone(pack[:len(pack)-packEnd])
	v1[4] = 1
	return v1
}

// emptyPack returns a pack of no frames, as sealing never writes one but a
// scan may meet.
func emptyPack() []byte { return appendPackEnd(appendPackHeader(nil, 7), 0) }

// fixSum returns b with its trailing checksum recomputed, so that the
// fuzzer's mutations reach the field checks behind it.
func fixSum(b []byte) []byte {
	if len(b) < 8 {
		return b
	}
	c := bytes.Clone(b)
	binary.LittleEndian.PutUint64(c[len(c)-8:], xxh3.Hash(c[:len(c)-8]))
	return c
}

// FuzzFrame: any bytes decode to a frame that encodes back to them, or to
// an error; never a panic, and decompression of a decoded frame either
// yields rawLen bytes or an error.
func FuzzFrame(f *testing.F) {
	for _, b := range seedFrames() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, in := range [][]byte{b, fixSum(b)} {
			fr, err := decodeFrame(in)
			if err != nil {
				continue
			}
			if again := appendFrame(nil, &fr); !bytes.Equal(again, in) {
				t.Fatalf("frame %x re-encodes to %x", in, again)
			}
			if v, err := decompressValue(&fr); err == nil && len(v) != int(fr.rawLen) {
				t.Fatalf("frame decompressed to %d bytes, says %d", len(v), fr.rawLen)
			}
		}
	})
}

// FuzzIndex: any bytes decode to an index that encodes back to them, with
// every entry inside its pack, or to an error; never a panic.
func FuzzIndex(f *testing.F) {
	pack, entries := seedPack()
	f.Add(encodeIndex(7, int64(len(pack)), entries))
	f.Add(encodeIndex(7, packHeader, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, in := range [][]byte{b, fixSum(b)} {
			got, packLen, err := decodeIndex(in, 7)
			if err != nil {
				continue
			}
			for _, e := range got {
				if e.off < packHeader || e.off+int64(e.frameLen) > packLen {
					t.Fatalf("entry %+v outside a pack of %d bytes", e, packLen)
				}
			}
			if again := encodeIndex(7, packLen, got); !bytes.Equal(again, in) {
				t.Fatalf("index %x re-encodes to %x", in, again)
			}
		}
	})
}

// FuzzPack: any bytes scan to frames that tile the pack exactly (up to its
// end record, in a version 2 pack), or to an error; never a panic.
func FuzzPack(f *testing.F) {
	pack, _ := seedPack()
	f.Add(pack)
	f.Add(emptyPack())
	f.Add(seedPackV1())
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := scanPack(b, 7)
		if err != nil {
			return
		}
		end := int64(packHeader)
		for _, e := range entries {
			if e.off != end {
				t.Fatalf("frame at %d, the previous ended at %d", e.off, end)
			}
			end += int64(e.frameLen)
		}
		if b[4] != 1 {
			end += packEnd
		}
		if end != int64(len(b)) {
			t.Fatalf("frames and end record end at %d of a %d-byte pack (version %d)", end, len(b), b[4])
		}
	})
}

// TestFormatRoundTrip: a pack's index, decoded, lists what scanning the
// pack finds.
func TestFormatRoundTrip(t *testing.T) {
	pack, entries := seedPack()
	scanned, err := scanPack(pack, 7)
	if err != nil {
		t.Fatal(err)
	}
	decoded, packLen, err := decodeIndex(encodeIndex(7, int64(len(pack)), entries), 7)
	if err != nil || packLen != int64(len(pack)) {
		t.Fatalf("decodeIndex: %v, pack length %d of %d", err, packLen, len(pack))
	}
	if fmt.Sprint(scanned) != fmt.Sprint(decoded) {
		t.Fatalf("scanned %+v\nindexed %+v", scanned, decoded)
	}
	if _, err := scanPack(pack, 8); err == nil {
		t.Fatal("scanPack accepted pack 7 as pack 8")
	}
}

// TestWriteSeeds writes the seed corpus with -update-seeds.
func TestWriteSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite testdata/fuzz")
	}
	pack, entries := seedPack()
	seeds := map[string]map[string][]byte{
		"FuzzFrame": seedFrames(),
		"FuzzIndex": {"pack": encodeIndex(7, int64(len(pack)), entries), "empty": encodeIndex(7, packHeader, nil)},
		"FuzzPack":  {"pack": pack, "empty": emptyPack(), "v1": seedPackV1()},
	}
	for target, files := range seeds {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range files {
			data := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestPackEndRecord: a version 2 pack cut at any frame boundary, or with
// its end record damaged, does not scan; a version 1 pack, which has none,
// scans to the same frames.
func TestPackEndRecord(t *testing.T) {
	pack, entries := seedPack()
	for _, e := range entries {
		if _, err := scanPack(pack[:e.off], 7); err == nil {
			t.Errorf("a pack cut at byte %d (a frame boundary) scanned as sound", e.off)
		}
	}
	if _, err := scanPack(pack[:len(pack)-packEnd], 7); err == nil {
		t.Error("a pack without its end record scanned as sound")
	}
	for i := len(pack) - packEnd; i < len(pack); i++ {
		bad := bytes.Clone(pack)
		bad[i] ^= 1
		if _, err := scanPack(bad, 7); err == nil {
			t.Errorf("a pack with byte %d of its end record flipped scanned as sound", i)
		}
	}
	got, err := scanPack(seedPackV1(), 7)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(entries) {
		t.Errorf("the version 1 pack scans to %+v, %v; want %+v", got, err, entries)
	}
}
