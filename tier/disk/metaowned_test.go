package disk_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/tier/disk"
)

// TestMetaOwnedByIndex: the index's meta (a pointer and a length
// since the 64-byte entry) is its own copy through every path that makes
// an entry: Put and PutStaged with a meta buffer the caller reuses, a
// compaction that relocates the entries, and a reopen that reads them
// back from hints or segments. Every key's meta, by Meta, GetMeta,
// ViewMeta, Scan and OpenRaw, is the one it was stored with.
func TestMetaOwnedByIndex(t *testing.T) {
	dir := t.TempDir()
	opts := &disk.Options{SegmentSize: 64 << 10}
	s, err := disk.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	metaOf := func(i int) []byte { return []byte(fmt.Sprintf("meta-%d-%s", i, strings.Repeat("x", i%13))) }
	buf := make([]byte, 0, 64)
	const n = 400
	for i := range n {
		buf = append(buf[:0], metaOf(i)...)
		if _, err := s.Put(fmt.Sprint("k", i), bytes.Repeat([]byte{byte(i)}, 300+i), buf); err != nil {
			t.Fatal(err)
		}
		for j := range buf {
			buf[j] = '!'
		}
	}
	big := bytes.Repeat([]byte("B"), 2<<20)
	st, err := s.Stage(bytes.NewReader(big), int64(len(big)))
	if err != nil {
		t.Fatal(err)
	}
	buf = append(buf[:0], "staged-meta"...)
	if _, err := s.PutStaged("big", st, buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXXXXXXXX")
	for i := 0; i < n; i += 2 { // dead bytes for compaction
		s.Delete(fmt.Sprint("k", i))
	}
	check := func(s *disk.Store, when string) {
		t.Helper()
		for i := 1; i < n; i += 2 {
			key, want := fmt.Sprint("k", i), metaOf(i)
			if m, err := s.Meta(key); err != nil || !bytes.Equal(m, want) {
				t.Fatalf("%s: Meta(%s) = %q, %v; want %q", when, key, m, err, want)
			}
			if _, m, err := s.GetMeta(key, nil); err != nil || !bytes.Equal(m, want) {
				t.Fatalf("%s: GetMeta(%s) = %q, %v; want %q", when, key, m, err, want)
			}
			s.ViewMeta(key, func(_, m []byte) error {
				if !bytes.Equal(m, want) {
					t.Fatalf("%s: ViewMeta(%s) = %q; want %q", when, key, m, want)
				}
				return nil
			})
		}
		if m, err := s.Meta("big"); err != nil || string(m) != "staged-meta" {
			t.Fatalf("%s: Meta(big) = %q, %v", when, m, err)
		}
		if v, ok, err := s.OpenRaw("big"); err != nil || !ok || string(v.Meta()) != "staged-meta" {
			t.Fatalf("%s: OpenRaw(big): %v %v", when, ok, err)
		} else {
			v.Close()
		}
		s.Scan(func(key string, meta []byte, _ int64) error {
			var i int
			if key != "big" {
				fmt.Sscanf(key, "k%d", &i)
				if !bytes.Equal(meta, metaOf(i)) {
					t.Fatalf("%s: Scan %s: %q", when, key, meta)
				}
			}
			return nil
		})
	}
	check(s, "after the puts")
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	check(s, "after Compact")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = disk.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check(s, "after a reopen")
}
