package bundle_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tiermem/tiermem/bundle"
)

func TestOpenMissingFile(t *testing.T) {
	_, err := bundle.Open(filepath.Join(t.TempDir(), "missing"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open error = %v, want one wrapping os.ErrNotExist", err)
	}
}

// mutate builds a small bundle, applies change to its bytes and returns the
// path of the changed file.
func mutate(t *testing.T, change func(b []byte) []byte) string {
	t.Helper()
	path := build(t, nil, randomRecords(300, 9, true))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, change(b), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOpenRejectsBadHeaders(t *testing.T) {
	tests := []struct {
		name   string
		change func(b []byte) []byte
		want   error
		where  string
	}{
		{"empty file", func(b []byte) []byte { return nil }, bundle.ErrCorrupt, "shorter than"},
		{"bad magic", func(b []byte) []byte { b[0] = 'X'; return b }, bundle.ErrCorrupt, "magic"},
		{"header bit flip", func(b []byte) []byte { b[40] ^= 1; return b }, bundle.ErrCorrupt, "header: checksum"},
		{"section table bit flip", func(b []byte) []byte { b[128+16] ^= 1; return b }, bundle.ErrCorrupt, "header: checksum"},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }, bundle.ErrCorrupt, "truncated"},
		{"extended", func(b []byte) []byte { return append(b, 0) }, bundle.ErrCorrupt, "truncated or extended"},
		{"newer reader needed", func(b []byte) []byte { b[10] = 3; return b }, bundle.ErrVersion, "reader of version 3"},
		{"big-endian mark", func(b []byte) []byte { b[12], b[13] = b[13], b[12]; return b }, bundle.ErrCorrupt, "byte order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bundle.Open(mutate(t, tt.change))
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.where) {
				t.Fatalf("Open error = %v, want %v about %q", err, tt.want, tt.where)
			}
		})
	}
}

func TestVerifyFindsFlippedBytes(t *testing.T) {
	path := build(t, nil, randomRecords(300, 9, true))
	info := open(t, path).Info()
	for _, s := range info.Sections {
		t.Run(s.Name, func(t *testing.T) {
			p := mutate(t, func(b []byte) []byte { b[s.Offset+s.Size/2] ^= 0x10; return b })
			b := open(t, p) // Open reads only the header: it succeeds
			err := b.Verify()
			if !errors.Is(err, bundle.ErrCorrupt) || !strings.Contains(err.Error(), "section "+s.Name+": checksum mismatch") {
				t.Fatalf("Verify error = %v, want a checksum mismatch in section %s", err, s.Name)
			}
		})
	}
}

func TestClosedBundle(t *testing.T) {
	b, err := bundle.Open(build(t, nil, []rec{{"k", "v", ""}}))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get([]byte("k")); !errors.Is(err, bundle.ErrClosed) {
		t.Fatalf("Get after Close: %v, want ErrClosed", err)
	}
	for _, err := range b.All() {
		if !errors.Is(err, bundle.ErrClosed) {
			t.Fatalf("All after Close: %v, want ErrClosed", err)
		}
	}
	for _, err := range b.Values([]byte("k")) {
		if !errors.Is(err, bundle.ErrClosed) {
			t.Fatalf("Values after Close: %v, want ErrClosed", err)
		}
	}
	for name, f := range map[string]func() error{"Verify": b.Verify, "Load": b.Load, "LoadIndex": b.LoadIndex, "Close": b.Close} {
		if err := f(); !errors.Is(err, bundle.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

func TestLoad(t *testing.T) {
	b := open(t, build(t, nil, randomRecords(3000, 1, false)))
	if err := b.LoadIndex(); err != nil {
		t.Fatal(err)
	}
	if err := b.Load(); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentReaders(t *testing.T) {
	recs := randomRecords(5000, 11, false)
	m := model(recs, false)
	b := open(t, build(t, nil, recs))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 0))
			for range 2000 {
				k := keys[rng.IntN(len(keys))]
				if v, err := b.Get([]byte(k)); err != nil || string(v) != m[k][0].value {
					errs <- fmt.Errorf("Get(%q) = %q, %v", k, v, err)
					return
				}
			}
			n := 0
			for _, err := range b.All() {
				if err != nil {
					errs <- err
					return
				}
				n++
			}
			if n != len(m) {
				errs <- fmt.Errorf("All yielded %d records, want %d", n, len(m))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestInfo(t *testing.T) {
	recs := []rec{{"a", "1", "m"}, {"bb", "22", ""}, {"a", "333", ""}}
	info := open(t, build(t, &bundle.Options{Index: bundle.Multi, Align: 1}, recs)).Info()
	want := bundle.Info{Index: bundle.Multi, Version: 2, MinReader: 2, Records: 3, Keys: 2, KeyBytes: 3,
		ValueBytes: 6, StoredBytes: 6, MetaBytes: 1, Direct: 2, InlineKey: 16, Align: 1}
	got := info
	got.FileSize, got.Sections = 0, nil
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Info = %+v\nwant %+v", got, want)
	}
	var names []string
	for _, s := range info.Sections {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "data,index,guide" || info.FileSize < info.Sections[2].Offset+info.Sections[2].Size {
		t.Fatalf("sections %+v in a file of %d bytes", info.Sections, info.FileSize)
	}
}
