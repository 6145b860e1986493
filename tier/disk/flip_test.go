package disk_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
)

// The flip tests damage a small store one bit at a time: "k" was written
// twice and "x" written then deleted. Whatever bit flips, in a segment or
// a hint file, with the hint files kept or gone (as after a crash), Open
// fails with ErrCorrupt, or k reads its second value or ErrCorrupt and x
// reads not found or ErrCorrupt: never k's first value, never x again,
// never a panic.

var (
	v1, v2 = []byte("first value of k"), []byte("second value of k")
	xValue = []byte("value of x, deleted")
)

var flipOpts = &disk.Options{SegmentSize: 4 << 10, Compression: disk.NoCompression}

// flipFile is one file of a flip template.
type flipFile struct {
	name string
	data []byte
}

// flipTemplates holds the files of each template store: one segment, and
// one where k's first value lies in a sealed segment.
var flipTemplates = sync.OnceValues(func() ([][]flipFile, error) {
	var out [][]flipFile
	for _, sealed := range []bool{false, true} {
		files, err := buildFlipTemplate(sealed)
		if err != nil {
			return nil, err
		}
		out = append(out, files)
	}
	return out, nil
})

func buildFlipTemplate(sealed bool) ([]flipFile, error) {
	dir, err := os.MkdirTemp("", "flip")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	s, err := disk.Open(dir, flipOpts)
	if err != nil {
		return nil, err
	}
	puts := [][2][]byte{{[]byte("k"), v1}, {[]byte("x"), xValue}}
	if sealed {
		puts = append(puts, [2][]byte{[]byte("pad"), bytes.Repeat([]byte("p"), 4000)})
	}
	puts = append(puts, [2][]byte{[]byte("k"), v2})
	for _, kv := range puts {
		if _, err := s.Put(string(kv[0]), kv[1], nil); err != nil {
			return nil, err
		}
	}
	if _, err := s.Delete("x"); err != nil {
		return nil, err
	}
	if err := s.Close(); err != nil {
		return nil, err
	}
	return readFlipFiles(dir)
}

func readFlipFiles(dir string) ([]flipFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []flipFile
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".seg") || strings.HasSuffix(e.Name(), ".hint") {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				return nil, err
			}
			files = append(files, flipFile{e.Name(), b})
		}
	}
	return files, nil
}

// writeFlipped writes files into dir (emptied first), with mask xored into
// the byte at pos of their concatenation, and without hint files if
// dropHints.
func writeFlipped(tb testing.TB, dir string, files []flipFile, pos int, mask byte, dropHints bool) {
	tb.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		os.Remove(filepath.Join(dir, e.Name()))
	}
	for _, f := range files {
		b := slices.Clone(f.data)
		if pos >= 0 && pos < len(b) {
			b[pos] ^= mask
		}
		pos -= len(f.data)
		if dropHints && strings.HasSuffix(f.name, ".hint") {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// checkFlipped opens dir and checks the flip rule.
func checkFlipped(tb testing.TB, dir string) error {
	s, err := disk.Open(dir, flipOpts)
	if err != nil {
		if !errors.Is(err, tier.ErrCorrupt) {
			return err
		}
		return nil
	}
	defer s.Crash()
	if v, err := s.Get("k", nil); err == nil && !bytes.Equal(v, v2) || err != nil && !errors.Is(err, tier.ErrCorrupt) {
		return errors.New("k reads " + string(v) + ", error " + errString(err))
	}
	if v, err := s.Get("x", nil); !errors.Is(err, tier.ErrNotFound) && !errors.Is(err, tier.ErrCorrupt) {
		return errors.New("deleted x reads " + string(v) + ", error " + errString(err))
	}
	return nil
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// memTempDir returns a temporary directory in memory (/dev/shm) when there
// is one, since these tests create tens of thousands of files; else
// t.TempDir().
func memTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "tiermem-flip")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// inHint reports whether byte pos of the files' concatenation is in a hint.
func inHint(files []flipFile, pos int) bool {
	for _, f := range files {
		if pos < len(f.data) {
			return strings.HasSuffix(f.name, ".hint")
		}
		pos -= len(f.data)
	}
	return false
}

func totalSize(files []flipFile) int {
	n := 0
	for _, f := range files {
		n += len(f.data)
	}
	return n
}

// TestFlipEveryBit flips every bit of the one-segment store, and every
// 17th of the two-segment one (5 KiB: every bit would take a minute), with
// and without hint files; -short samples five times sparser.
func TestFlipEveryBit(t *testing.T) {
	templates, err := flipTemplates()
	if err != nil {
		t.Fatal(err)
	}
	dir := memTempDir(t)
	for i, files := range templates {
		stride := []int{1, 17}[i]
		if testing.Short() {
			stride *= 5
		}
		for _, dropHints := range []bool{true, false} {
			for bit := 0; bit < totalSize(files)*8; bit += stride {
				if dropHints && inHint(files, bit/8) {
					continue // the hint is gone: this flip changes nothing
				}
				writeFlipped(t, dir, files, bit/8, 1<<(bit%8), dropHints)
				if err := checkFlipped(t, dir); err != nil {
					t.Fatalf("template %d, bit %d flipped, hints dropped %v: %v", i, bit, dropHints, err)
				}
			}
		}
	}
}

func FuzzRecoverFlip(f *testing.F) {
	f.Add(uint8(0), uint32(100), byte(1), true)
	f.Add(uint8(1), uint32(4100), byte(0x80), false)
	f.Fuzz(func(t *testing.T, template uint8, pos uint32, mask byte, dropHints bool) {
		templates, err := flipTemplates()
		if err != nil {
			t.Fatal(err)
		}
		files := templates[int(template)%len(templates)]
		dir := t.TempDir()
		writeFlipped(t, dir, files, int(pos%uint32(totalSize(files))), mask, dropHints)
		if err := checkFlipped(t, dir); err != nil {
			t.Fatal(err)
		}
	})
}
