package offheap_test

import (
	"bytes"
	"fmt"
	"testing"
	"unsafe"

	"github.com/tiermem/tiermem/internal/tiertest"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/offheap"
)

func open(t *testing.T, opts *offheap.Options) *offheap.Store {
	t.Helper()
	s, err := offheap.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	tiertest.Run(t, func(t *testing.T) tier.Store { return open(t, &offheap.Options{Capacity: 256 << 20}) }, nil)
}

func TestConformanceCompressed(t *testing.T) {
	tiertest.Run(t, func(t *testing.T) tier.Store {
		return open(t, &offheap.Options{Capacity: 256 << 20, Compress: true})
	}, nil)
}

func TestCompressionPays(t *testing.T) {
	s := open(t, &offheap.Options{Capacity: 64 << 20, Compress: true})
	defer s.Close()
	text := bytes.Repeat([]byte("tiermem keeps data across tiers. "), 1000)
	compressed, err := s.Put("text", text, nil)
	if err != nil {
		t.Fatal(err)
	}
	random := make([]byte, len(text))
	for i := range random {
		random[i] = byte(i*2654435761>>13) ^ byte(i>>3)
	}
	plain, err := s.Put("random", random, nil)
	if err != nil {
		t.Fatal(err)
	}
	if compressed*4 > int64(len(text)) || plain < int64(len(random)) {
		t.Errorf("text charged %d of %d bytes, random %d of %d", compressed, len(text), plain, len(random))
	}
}

// TestManyKeysGrowTheIndex stores enough keys to rebuild every shard's
// index several times, then deletes half (tombstones) and checks the rest.
func TestManyKeysGrowTheIndex(t *testing.T) {
	s := open(t, &offheap.Options{Capacity: 64 << 20})
	defer s.Close()
	const n = 200000
	for i := range n {
		if _, err := s.Put(fmt.Sprint(i), []byte(fmt.Sprint("v", i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i += 2 {
		if _, err := s.Delete(fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		got, err := s.Get(fmt.Sprint(i), nil)
		if i%2 == 0 && err == nil || i%2 == 1 && string(got) != fmt.Sprint("v", i) {
			t.Fatalf("key %d: %q, %v", i, got, err)
		}
	}
	if st := s.Stats(); st.Items != n/2 {
		t.Errorf("Stats.Items = %d, want %d", st.Items, n/2)
	}
	if key, ok := s.KeyOf(offheap.Hash("7")); !ok || key != "7" {
		t.Errorf("KeyOf(Hash(7)) = %q, %v", key, ok)
	}
	if _, ok := s.KeyOf(offheap.Hash("8")); ok {
		t.Error("KeyOf finds a deleted key")
	}
}

func TestValuesAreAlignedForTypedViews(t *testing.T) {
	s := open(t, nil)
	defer s.Close()
	for _, key := range []string{"a", "ab", "abc", "abcdefg", "abcdefgh"} {
		if _, err := s.Put(key, make([]byte, 256), nil); err != nil {
			t.Fatal(err)
		}
		s.View(key, func(v []byte) error {
			if addr := uintptr(unsafe.Pointer(&v[0])); addr%8 != 0 {
				t.Errorf("value of %q at %#x is not 8-byte aligned", key, addr)
			}
			return nil
		})
	}
}
