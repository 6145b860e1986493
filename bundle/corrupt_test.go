package bundle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// shortKey and longKey name the keys of the small test bundles: short keys
// get direct entries, long ones (over the inline width) indirect ones.
const (
	shortKey = "key-%d"
	longKey  = "a key longer than the inline width, %d"
)

// smallBundle writes a bundle of n keys (fmt.Sprintf(keyFormat, i)) with
// values "value-i" and returns its path and bytes.
func smallBundle(t *testing.T, n int, keyFormat string, opts *Options) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "b")
	_, err := Build(path, func(yield func([]byte, []byte) bool) {
		for i := range n {
			if !yield(fmt.Appendf(nil, keyFormat, i), fmt.Appendf(nil, "value-%d", i)) {
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

// entryOf returns the bytes of entry i of file b.
func entryOf(b []byte, i int) []byte {
	off, _ := sectionOf(b, sectionIndex)
	es := int(entrySize(b[hInlineKey]))
	return b[off+i*es : off+(i+1)*es]
}

// firstKey returns the bytes of the key of entry 0 of file b: in the entry
// if it is direct, else in its record.
func firstKey(b []byte) []byte {
	e := entryOf(b, 0)
	loc := binary.LittleEndian.Uint64(e[8:])
	if loc&locDirect != 0 {
		return e[entryHead : entryHead+locKeyLen(loc)]
	}
	off, _ := sectionOf(b, sectionData)
	rec := b[off+int(loc):]
	return rec[1 : 1+rec[0]]
}

func TestVerifyFindsStructuralCorruption(t *testing.T) {
	tests := []struct {
		name   string
		change func(b []byte)
		want   string
	}{
		{"entries out of order", func(b []byte) {
			e0, e1 := entryOf(b, 0), entryOf(b, 1)
			tmp := slices.Clone(e1)
			copy(e1, e0)
			copy(e0, tmp)
		}, "entry 1 is out of order"},
		{"key changed", func(b []byte) { firstKey(b)[2] ^= 1 }, "does not hash"},
		{"key repeated", func(b []byte) { copy(entryOf(b, 1), entryOf(b, 0)) }, "repeats the key"},
		{"guide moved", func(b []byte) {
			off, _ := sectionOf(b, sectionGuide)
			binary.LittleEndian.PutUint64(b[off+8:], binary.LittleEndian.Uint64(b[off+8:])+1)
		}, "section guide: bucket 1"},
		{"count changed", func(b []byte) { b[hKeyBytes]++ }, "key bytes recorded"},
		{"direct count changed", func(b []byte) { b[hDirect] ^= 8 }, "direct entries recorded"},
	}
	for _, form := range []string{shortKey, longKey} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/%.9s", tt.name, form), func(t *testing.T) {
				path, b := smallBundle(t, 200, form, &Options{Align: 1})
				tt.change(b)
				bd := rewrite(t, path, b)
				err := bd.Verify()
				if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Verify error = %v, want ErrCorrupt about %q", err, tt.want)
				}
				for i := range 200 { // lookups may miss or fail, never panic
					bd.Get(fmt.Appendf(nil, form, i))
				}
			})
		}
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
			path, b := smallBundle(t, 1, longKey, &Options{Align: 1})
			off, _ := sectionOf(b, sectionData)
			tt.change(b[off:])
			bd := rewrite(t, path, b)
			if _, err := bd.Get(fmt.Appendf(nil, longKey, 0)); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Get error = %v, want ErrCorrupt", err)
			}
			checkCorrupt(t, bd)
		})
	}
}

// checkCorrupt checks that All and Verify of bd report corruption.
func checkCorrupt(t *testing.T, bd *Bundle) {
	t.Helper()
	for _, err := range bd.All() {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("All error = %v, want ErrCorrupt", err)
		}
	}
	if err := bd.Verify(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Verify error = %v, want ErrCorrupt", err)
	}
}

// TestDedupKeepsCollidingValues gives two different values of the same size
// the same hash in the dedup table: both must be stored, with entries of
// either form.
func TestDedupKeepsCollidingValues(t *testing.T) {
	for _, inline := range []uint8{0, inlineKeyBytes} {
		t.Run(fmt.Sprint(inline), func(t *testing.T) { testDedupCollision(t, inline) })
	}
}

func testDedupCollision(t *testing.T, inline uint8) {
	dir := t.TempDir()
	const fakeHash = 12345
	dd := testDedup(t, dir, fakeHash)
	o, _ := (&Options{}).resolve(filepath.Join(dir, "b"))
	w, err := newFileWriter(filepath.Join(dir, "b"), o, false, 3, inline, dd)
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	a, b := []byte("a value of at least sixteen bytes"), []byte("another value, the same fake hash")
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
	if info := bd.Info(); info.InlineKey != int(inline) || (info.Direct == 4) != (inline > 0) {
		t.Fatalf("inline width %d, %d direct entries; want width %d", info.InlineKey, info.Direct, inline)
	}
}

// testDedup returns a dedup table holding one repeated hash.
func testDedup(t *testing.T, dir string, h uint64) *dedup {
	t.Helper()
	path := filepath.Join(dir, "dedup")
	var slot [dedupSlot]byte
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
