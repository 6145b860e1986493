package heap_test

import (
	"bytes"
	"testing"
)

// TestLentValuesAreNeverWrittenAgain keeps the slice ViewMeta handed out
// for an entry Lends allows, and then replaces the key with a value of
// the same size (which a smaller entry takes in place), with one a little
// smaller, with a prepared one, deletes it and closes the store: the kept
// slice still holds the bytes first stored. A small entry is not lent.
func TestLentValuesAreNeverWrittenAgain(t *testing.T) {
	for name, s := range storesOfBothKinds(t) {
		t.Run(name, func(t *testing.T) {
			const size = 100 << 10
			if !s.Lends(size) || s.Lends(1<<10) {
				t.Fatalf("Lends(%d) = %v, Lends(1024) = %v; want true, false", size, s.Lends(size), s.Lends(1<<10))
			}
			want := bytes.Repeat([]byte("a"), size)
			if _, err := s.Put("k", want, []byte("m!")); err != nil {
				t.Fatal(err)
			}
			var kept []byte
			if err := s.View("k", func(v []byte) error { kept = v; return nil }); err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{size, size - 1000} {
				if _, err := s.Put("k", bytes.Repeat([]byte("b"), n), []byte("m!")); err != nil {
					t.Fatal(err)
				}
			}
			fillPending(t, s, "k", bytes.Repeat([]byte("c"), size), 2).Commit([]byte("m!"))
			if _, err := s.Delete("k"); err != nil {
				t.Fatal(err)
			}
			s.Close()
			if !bytes.Equal(kept, want) {
				t.Fatal("a lent value was written over")
			}
		})
	}
}
