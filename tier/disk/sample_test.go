package disk_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/tiermem/tiermem/tier/disk"
)

// TestOldestIsTheFirstWrittenOfTheSample: sampling every key finds the one
// written first; skipped keys, deleted keys and rewritten keys are not it;
// an empty store (or one whose every key is skipped) has none; and the
// order survives a reopen and a compaction.
func TestOldestIsTheFirstWrittenOfTheSample(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, &disk.Options{SegmentSize: 4 << 10, CompactThreshold: -1})
	if k, ok := s.Oldest(8, nil); ok {
		t.Fatalf("empty store: Oldest = %q", k)
	}
	for i := range 50 {
		if _, err := s.Put(fmt.Sprint("k", i), []byte(fmt.Sprint("value ", i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	want := func(want string) {
		t.Helper()
		if k, ok := s.Oldest(1000, nil); !ok || k != want {
			t.Fatalf("Oldest = %q, %v; want %q", k, ok, want)
		}
	}
	want("k0")
	s.Put("k0", []byte("rewritten"), nil) // now the newest
	s.Delete("k1")
	want("k2")
	skipK2 := func(key string, _ []byte) bool { return key == "k2" }
	if k, _ := s.Oldest(1000, skipK2); k != "k3" {
		t.Fatalf("Oldest skipping k2 = %q", k)
	}
	if k, ok := s.Oldest(1000, func(string, []byte) bool { return true }); ok {
		t.Fatalf("every key skipped: Oldest = %q", k)
	}
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	want("k2")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, nil)
	want("k2")
}

// TestWrittenBeforeIsWhatWasNotWrittenSinceTheMark: keys written before a
// LastSeq mark are reported; keys written, rewritten or deleted after it
// are not.
func TestWrittenBeforeIsWhatWasNotWrittenSinceTheMark(t *testing.T) {
	s := openStore(t, "", nil)
	for _, k := range []string{"a", "b", "c", "d"} {
		s.Put(k, []byte(k), nil)
	}
	mark := s.LastSeq() + 1
	s.Put("b", []byte("b2"), nil)
	s.Delete("c")
	s.Put("e", []byte("e"), nil)
	var got []string
	s.WrittenBefore(mark, func(key string, _ []byte) bool {
		got = append(got, key)
		return true
	})
	slices.Sort(got)
	if !slices.Equal(got, []string{"a", "d"}) {
		t.Fatalf("written before the mark: %v, want [a d]", got)
	}
	n := 0
	s.WrittenBefore(mark, func(string, []byte) bool { n++; return false })
	if n != 1 {
		t.Fatalf("fn returning false was called %d times", n)
	}
}
