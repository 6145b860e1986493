package heap_test

import (
	"bytes"
	"testing"
	"unsafe"
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

// TestLargeValuesAreAligned stores values around the lending size under
// keys of every length modulo 8, by Put, by a replacing Put and by
// Prepare: a value the store lends starts at a multiple of 8 (so that a
// large array needs no aligning copy), reads back whole, and is charged
// what Cost says.
func TestLargeValuesAreAligned(t *testing.T) {
	for name, s := range storesOfBothKinds(t) {
		t.Run(name, func(t *testing.T) {
			defer s.Close()
			for keyLen := 1; keyLen <= 9; keyLen++ {
				key := string(bytes.Repeat([]byte{'k'}, keyLen))
				for _, size := range []int{64<<10 - 20, 64<<10 - 8, 64<<10 - 1, 64 << 10, 64<<10 + 3, 200 << 10, 100} {
					value := bytes.Repeat([]byte{byte(size)}, size)
					for via := range 2 {
						var charged int64
						var err error
						if via == 0 {
							charged, err = s.Put(key, value, []byte("m"))
						} else {
							charged, err = fillPending(t, s, key, value, 1).Commit([]byte("m"))
						}
						if err != nil {
							t.Fatal(err)
						}
						if c := s.Cost(keyLen, size, 1); charged != c {
							t.Fatalf("key %d, value %d: charged %d, Cost %d", keyLen, size, charged, c)
						}
						err = s.ViewMeta(key, func(v, meta []byte) error {
							if !bytes.Equal(v, value) || string(meta) != "m" {
								t.Errorf("key %d, value %d: read back wrong", keyLen, size)
							}
							if s.Lends(len(v)) && uintptr(unsafe.Pointer(unsafe.SliceData(v)))%8 != 0 {
								t.Errorf("key %d, value %d: a lent value is not 8-aligned", keyLen, size)
							}
							return nil
						})
						if err != nil {
							t.Fatal(err)
						}
					}
				}
			}
		})
	}
}
