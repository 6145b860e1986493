package bundle_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/bundle"
)

// TestVerifyPadding builds a bundle with padding before its data section and
// between its sections, sets one byte of each gap in turn, and checks that
// the file still opens (no checksum covers the padding) and that Verify,
// which claims to check every byte, reports it.
func TestVerifyPadding(t *testing.T) {
	recs := []rec{{key: "a", value: "123"}, {key: "b", value: "4567"}}
	path := build(t, &bundle.Options{Align: 512}, recs)
	clean, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	in := open(t, path).Info()
	var gaps []int64 // the last byte of each gap, the one before a section
	for _, s := range in.Sections {
		if s.Name == "data" || s.Name == "index" {
			gaps = append(gaps, s.Offset-1)
		}
	}
	if gaps[0] < 224 || gaps[1] < gaps[0] {
		t.Fatalf("no padding to test: sections %+v", in.Sections)
	}
	for _, off := range gaps {
		t.Run(fmt.Sprint(off), func(t *testing.T) {
			data := append([]byte(nil), clean...)
			if data[off] != 0 {
				t.Fatalf("byte %d is %#x: not padding", off, data[off])
			}
			data[off] = 0x5a
			corrupted := filepath.Join(t.TempDir(), "b.bundle")
			if err := os.WriteFile(corrupted, data, 0o644); err != nil {
				t.Fatal(err)
			}
			b := open(t, corrupted)
			err := b.Verify()
			if !errors.Is(err, bundle.ErrCorrupt) || !strings.Contains(err.Error(), fmt.Sprintf("padding before section %s: byte %d of the file is 0x5a", map[bool]string{true: "data", false: "index"}[off == gaps[0]], off)) {
				t.Fatalf("Verify = %v, want ErrCorrupt naming the padding byte", err)
			}
		})
	}
}

// TestVersion1FilesVerify checks that the bundles written by the version 1
// code verify: their padding is zero too.
func TestVersion1FilesVerify(t *testing.T) {
	for _, kind := range []bundle.IndexKind{bundle.Exact, bundle.Approximate, bundle.Multi} {
		if err := open(t, "testdata/v1-"+kind.String()+".bundle").Verify(); err != nil {
			t.Errorf("%v: %v", kind, err)
		}
	}
}

// TestNewBuilderOutput checks the output path before anything is built: a
// missing directory is named in the error (not the temporary file the
// builder would have created in it), and a directory is ErrIsDir.
func TestNewBuilderOutput(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "absent", "deeper")
	_, err := bundle.NewBuilder(filepath.Join(missing, "b.bundle"), nil)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) || strings.Contains(err.Error(), ".tmp-") {
		t.Errorf("output in a missing directory: %v, want ErrNotExist naming %s", err, missing)
	}
	if _, err := bundle.NewBuilder(dir, nil); !errors.Is(err, bundle.ErrIsDir) {
		t.Errorf("output that is a directory: %v, want ErrIsDir", err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := bundle.NewBuilder(filepath.Join(file, "b.bundle"), nil); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("output under a file: %v, want an error naming %s", err, file)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the failed builders left %d files", len(entries)-1)
	}
}
