package cluster

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// sampleManifests are manifests of every shape: the fuzz seeds, and the
// round-trip table.
func sampleManifests() []*manifest {
	return []*manifest{
		{kind: kindBytes, gen: 1, started: 2, length: 0, chunkSize: 4 << 20, isInline: true, inline: []byte{}},
		{kind: kindBytes, gen: 7, started: 1e18, length: 5, chunkSize: 4 << 20, isInline: true, inline: []byte("hello")},
		{kind: kindValue, aux: 2, gen: 9, length: 3, chunkSize: 1 << 16, isInline: true, inline: []byte{1, 2, 3}},
		{kind: kindBytes, gen: 1<<64 - 1, length: 1<<16 + 1, chunkSize: 1 << 16, sums: []uint64{11, 12}},
		{kind: kindArray, aux: 1, gen: 3, length: 800, chunkSize: 1 << 16, shape: []uint64{10, 10}, isInline: true, inline: make([]byte, 800)},
		{kind: kindBytes, gen: 5, length: 3 << 20, chunkSize: 1 << 20, sums: []uint64{1, 2, 3}, spilled: true},
		{kind: kindArray, aux: 1, gen: 4, length: 8e8, chunkSize: 4 << 20, shape: []uint64{10000, 10000}, sums: make([]uint64, 191)},
		// Chunks over maxChunkSize, as stored before it: still readable.
		{kind: kindBytes, gen: 6, length: 300 << 20, chunkSize: maxReadChunkSize, sums: []uint64{1, 2}},
	}
}

func TestManifestRoundTrip(t *testing.T) {
	for i, m := range sampleManifests() {
		enc := appendManifest(nil, m)
		got, err := parseManifest(enc)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if again := appendManifest(nil, got); !bytes.Equal(again, enc) {
			t.Fatalf("%d: round trip differs", i)
		}
		for cut := range enc { // every truncation fails
			if _, err := parseManifest(enc[:cut]); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%d: a manifest cut at %d: %v", i, cut, err)
			}
		}
		for b := range enc { // every flipped byte fails
			bad := bytes.Clone(enc)
			bad[b] ^= 0x20
			if _, err := parseManifest(bad); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%d: byte %d flipped: %v", i, b, err)
			}
		}
	}
}

// FuzzManifest parses anything: it must not panic, and what parses must
// encode back to the same bytes. The seed corpus is in testdata/fuzz.
func FuzzManifest(f *testing.F) {
	for _, m := range sampleManifests() {
		f.Add(appendManifest(nil, m))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseManifest(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not ErrCorrupt: %v", err)
			}
			return
		}
		if again := appendManifest(nil, m); !bytes.Equal(again, b) {
			t.Fatalf("round trip differs")
		}
		for i := range m.sums {
			_ = m.chunkLen(i)
		}
	})
}

func TestChunkKeys(t *testing.T) {
	m := &manifest{gen: 0xabc, started: 1_700_000_000e9, length: 10 << 20, chunkSize: 1 << 20, sums: make([]uint64, 10)}
	keys := (&Cluster{}).chunkKeys("a:b{c}", m)
	seen := map[uint16]bool{}
	for i, k := range keys {
		id, ok := parseChunkKey(k)
		key, named := id.key()
		if !ok || !named || key != "a:b{c}" || id.gen != 0xabc || id.index != i || id.started != 1_700_000_000 {
			t.Fatalf("chunk key %q parses as %+v, %v", k, id, ok)
		}
		seen[slotOf(k)] = true
	}
	if len(seen) != len(keys) {
		t.Fatalf("%d chunks on %d slots", len(keys), len(seen))
	}
	// The slot of a chunk is the one chunkKey aimed at, for every slot.
	for s, tag := range slotTags() {
		if got := crc16(tag) % slots; int(got) != s {
			t.Fatalf("tag %q of slot %d hashes to %d", tag, s, got)
		}
	}
	if crc16("123456789") != 0x31c3 { // the CRC-16/XMODEM check value
		t.Fatal("crc16 is not XMODEM")
	}
}

// TestKeyNames: a key up to hexNameMax bytes names its chunks and object by
// its hex, a longer one by a 33-byte digest, whatever its length; a manifest
// keeps which (flagDigest), and chunk keys and names parse back.
func TestKeyNames(t *testing.T) {
	for _, key := range []string{"k", strings.Repeat("a", hexNameMax), strings.Repeat("b", hexNameMax+1), strings.Repeat("c", MaxKeyLen)} {
		m := &manifest{gen: 7, started: 1e9, length: 1 << 20, chunkSize: 1 << 20, sums: make([]uint64, 1), digest: usesDigest(key)}
		back, err := parseManifest(appendManifest(nil, m))
		if err != nil || back.digest != m.digest {
			t.Fatalf("%d-byte key: manifest digest %v reads back as %v, %v", len(key), m.digest, back, err)
		}
		name := keyName(key, m.digest)
		id, ok := parseChunkKey((&Cluster{}).chunkKeys(key, back)[0])
		if !ok || id.name != name {
			t.Fatalf("%d-byte key: chunk key parses as %+v, %v; want name %q", len(key), id, ok, name)
		}
		k, named := id.key()
		switch {
		case len(key) <= hexNameMax && (!named || k != key):
			t.Errorf("%d-byte key: named %q, which reads as %q, %v", len(key), name, k, named)
		case len(key) > hexNameMax && (named || len(name) != 33):
			t.Errorf("%d-byte key: named %q (%d bytes), want a 33-byte digest", len(key), name, len(name))
		}
	}
	for _, bad := range []string{"", "~", "~12", "zz", "~" + strings.Repeat("g", 32)} {
		if parseName(bad) {
			t.Errorf("parseName(%q) accepted it", bad)
		}
	}
}

// slotOf returns the slot of a key with a hash tag.
func slotOf(k string) uint16 {
	start := bytes.IndexByte([]byte(k), '{')
	end := bytes.IndexByte([]byte(k[start:]), '}')
	return crc16(k[start+1:start+end]) % slots
}
