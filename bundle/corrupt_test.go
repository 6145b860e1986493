package bundle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// smallBundle writes a bundle of n keys "key-i" with values "value-i" and
// returns its path and bytes.
func smallBundle(t *testing.T, n int, opts *Options) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "b")
	_, err := Build(path, func(yield func([]byte, []byte) bool) {
		for i := range n {
			if !yield(fmt.Appendf(nil, "key-%d", i), fmt.Appendf(nil, "value-%d", i)) {
				return
			}
		}
	}, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, b
}

// reseal recomputes every checksum of file b, so that only structural checks
// can find what was changed.
func reseal(b []byte) { resealAny(b) }

// rewrite reseals b, writes it at path and opens it.
func rewrite(t *testing.T, path string, b []byte) *Bundle {
	t.Helper()
	reseal(b)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	bd, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bd.Close() })
	return bd
}

// sectionOf returns the bounds of the section of kind in file b.
func sectionOf(b []byte, kind uint32) (off, size int) {
	le := binary.LittleEndian
	for i := range int(le.Uint16(b[hSections:])) {
		p := b[headerSize+sectionSize*i:]
		if le.Uint32(p) == kind {
			return int(le.Uint64(p[8:])), int(le.Uint64(p[16:]))
		}
	}
	panic("no such section")
}

func TestVerifyFindsStructuralCorruption(t *testing.T) {
	tests := []struct {
		name   string
		change func(b []byte)
		want   string
	}{
		{"entries out of order", func(b []byte) {
			off, _ := sectionOf(b, sectionIndex)
			e := b[off:]
			tmp := [entrySize]byte(e[entrySize : 2*entrySize])
			copy(e[entrySize:], e[:entrySize])
			copy(e, tmp[:])
		}, "entry 1 is out of order"},
		{"key changed", func(b []byte) {
			off, _ := sectionOf(b, sectionData)
			b[off+2] ^= 1 // inside the first record's key
		}, "does not hash"},
		{"key repeated", func(b []byte) {
			off, _ := sectionOf(b, sectionIndex)
			copy(b[off+entrySize:], b[off:off+entrySize])
		}, "repeats the key"},
		{"guide moved", func(b []byte) {
			off, _ := sectionOf(b, sectionGuide)
			binary.LittleEndian.PutUint64(b[off+8:], binary.LittleEndian.Uint64(b[off+8:])+1)
		}, "section guide: bucket 1"},
		{"count changed", func(b []byte) { b[hKeyBytes]++ }, "key bytes recorded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, b := smallBundle(t, 200, &Options{Align: 1})
			tt.change(b)
			bd := rewrite(t, path, b)
			err := bd.Verify()
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify error = %v, want ErrCorrupt about %q", err, tt.want)
			}
			for i := range 200 { // lookups may miss or fail, never panic
				bd.Get(fmt.Appendf(nil, "key-%d", i))
			}
		})
	}
}

func TestGetReportsCorruptRecords(t *testing.T) {
	tests := []struct {
		name   string
		change func(data []byte)
	}{
		{"key length", func(d []byte) { d[0], d[1] = 0xff, 0xff }},                            // an unfinished uvarint
		{"value length", func(d []byte) { d[1+int(d[0])] = 0x7e }},                            // 63 bytes inline, past the end
		{"value reference", func(d []byte) { d[1+int(d[0])] |= 1 }},                           // a reference...
		{"reference target", func(d []byte) { d[1+int(d[0])] = 0x7f; d[2+int(d[0])] = 0x60 }}, // ...to past the end
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, b := smallBundle(t, 1, &Options{Align: 1})
			off, _ := sectionOf(b, sectionData)
			tt.change(b[off:])
			bd := rewrite(t, path, b)
			if _, err := bd.Get([]byte("key-0")); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Get error = %v, want ErrCorrupt", err)
			}
			for _, err := range bd.All() {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("All error = %v, want ErrCorrupt", err)
				}
			}
			if err := bd.Verify(); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Verify error = %v, want ErrCorrupt", err)
			}
		})
	}
}

// TestDedupKeepsCollidingValues gives two different values the same hash in
// the dedup table: both must be stored.
func TestDedupKeepsCollidingValues(t *testing.T) {
	dir := t.TempDir()
	const fakeHash = 12345
	dd := testDedup(t, dir, fakeHash)
	o, _ := (&Options{}).resolve(filepath.Join(dir, "b"))
	w, err := newFileWriter(filepath.Join(dir, "b"), o, false, 3, dd)
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	a, b := []byte("a value of at least sixteen bytes"), []byte("another value, same fake hash...")
	for i, v := range [][]byte{a, b, a, b} {
		key := fmt.Appendf(nil, "%d", i)
		if err := w.add(uint64(i), key, nil, value{b: v, size: int64(len(v))}, fakeHash); err != nil {
			t.Fatal(err)
		}
	}
	h, err := w.finish()
	if err != nil {
		t.Fatal(err)
	}
	if h.stored != uint64(len(a)+2*len(b)) || h.deduped != 1 {
		t.Fatalf("stored %d bytes, deduped %d: want a once, b twice (it collides with a), one reference to a", h.stored, h.deduped)
	}
	bd, err := Open(filepath.Join(dir, "b"))
	if err != nil {
		t.Fatal(err)
	}
	defer bd.Close()
	for i, want := range [][]byte{a, b, a, b} {
		r, _ := bd.record(i)
		if string(r.Value) != string(want) {
			t.Fatalf("record %d = %q, want %q", i, r.Value, want)
		}
	}
}

// testDedup returns a dedup table holding one repeated hash.
func testDedup(t *testing.T, dir string, h uint64) *dedup {
	t.Helper()
	path := filepath.Join(dir, "dedup")
	var slot [entrySize]byte
	binary.LittleEndian.PutUint64(slot[:], h)
	if err := os.WriteFile(path, slot[:], 0o644); err != nil {
		t.Fatal(err)
	}
	dd, err := mapDedup(path, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dd.close)
	return dd
}
