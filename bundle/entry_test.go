package bundle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestDirectLoc(t *testing.T) {
	tests := []struct {
		keyLen   int
		len, off uint64
	}{{0, 0, 0}, {16, 32, 64}, {5, maxDirectValue, maxDirectOff}, {maxInlineKey, 1, 1 << 39}}
	for _, tt := range tests {
		loc := directLoc(tt.keyLen, tt.len, tt.off)
		off, n := locValue(loc)
		if loc&locDirect == 0 || locKeyLen(loc) != uint64(tt.keyLen) || n != tt.len || off != tt.off {
			t.Errorf("directLoc(%d, %d, %d) = %#x: key %d, value %d at %d", tt.keyLen, tt.len, tt.off, loc, locKeyLen(loc), n, off)
		}
	}
}

func TestInlineOf(t *testing.T) {
	tests := []struct {
		key  string
		n    uint64
		w0   uint64
		note string
	}{
		{"", 0, 0, "empty"},
		{"abc", 3, 0x636261, "zero-padded"},
		{"0123456789abcdef", 16, binary.LittleEndian.Uint64([]byte("01234567")), "exactly the width"},
		{"0123456789abcdefg", maxInlineKey + 1, 0, "too long: a length no entry has"},
	}
	for _, tt := range tests {
		k := inlineOf([]byte(tt.key))
		if k.n != tt.n || k.w[0] != tt.w0 {
			t.Errorf("%s: inlineOf(%q) = %+v, want length %d, first word %#x", tt.note, tt.key, k, tt.n, tt.w0)
		}
	}
}

// setLoc rewrites the loc of entry 0 of file b.
func setLoc(b []byte, change func(loc uint64) uint64) {
	e := entryOf(b, 0)
	binary.LittleEndian.PutUint64(e[8:], change(binary.LittleEndian.Uint64(e[8:])))
}

// TestDirectEntryCorruption changes each field of a direct entry: Verify
// names what is wrong, and lookups return errors or miss, never panic.
func TestDirectEntryCorruption(t *testing.T) {
	tests := []struct {
		name   string
		opts   Options
		change func(b []byte)
		want   string
		getErr bool // Get of entry 0's key reports ErrCorrupt
	}{
		{"value past the data section", Options{}, func(b []byte) {
			setLoc(b, func(loc uint64) uint64 { return loc&^maxDirectOff | 1<<30 })
		}, "runs past the data section", true},
		{"value length past the data section", Options{Align: 1}, func(b []byte) {
			_, size := sectionOf(b, sectionData)
			setLoc(b, func(loc uint64) uint64 { return directLoc(int(locKeyLen(loc)), uint64(size), 1) })
		}, "runs past the data section", true},
		{"key over the inline width", Options{}, func(b []byte) {
			setLoc(b, func(loc uint64) uint64 { return loc | 20<<locKeyShift })
		}, "over the inline width", false},
		{"key padding", Options{}, func(b []byte) { entryOf(b, 0)[entryHead+inlineKeyBytes-1] = 'x' }, "not zero", false},
		{"value misaligned", Options{}, func(b []byte) { setLoc(b, func(loc uint64) uint64 { return loc + 1 }) }, "not aligned", false},
		{"key length without keys", Options{Index: Approximate}, func(b []byte) {
			setLoc(b, func(loc uint64) uint64 { return loc | 3<<locKeyShift })
		}, "key length in a bundle without keys", false},
		{"direct bit cleared", Options{}, func(b []byte) { setLoc(b, func(loc uint64) uint64 { return loc &^ locDirect }) }, "runs past the section", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, b := smallBundle(t, 100, shortKey, &tt.opts)
			key := append([]byte(nil), firstKey(b)...) // empty in an approximate bundle
			tt.change(b)
			bd := rewrite(t, path, b)
			if err := bd.Verify(); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify error = %v, want ErrCorrupt about %q", err, tt.want)
			}
			if _, err := bd.Get(key); tt.getErr && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Get error = %v, want ErrCorrupt", err)
			}
			for i := range 100 { // lookups may miss or fail, never panic
				bd.Get(fmt.Appendf(nil, shortKey, i))
				bd.GetRecord(fmt.Appendf(nil, shortKey, i))
			}
			for range bd.All() {
			}
		})
	}
}

func TestOpenChecksInlineKeyWidth(t *testing.T) {
	tests := []struct {
		name  string
		kind  IndexKind
		width byte
	}{{"not a width entries have", Exact, 8}, {"keys in an approximate bundle", Approximate, inlineKeyBytes}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, b := smallBundle(t, 10, shortKey, &Options{Index: tt.kind})
			b[hInlineKey] = tt.width
			reseal(b)
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Open(path)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "inline key width") {
				t.Fatalf("Open error = %v, want ErrCorrupt about the inline key width", err)
			}
		})
	}
}
