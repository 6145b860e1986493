package object_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/object"
)

// quick are options for the hostile tests: small packs, and few retries
// with short pauses. The deadline leaves room for an fsync on a loaded
// machine; the hang test sets its own.
func quick() *object.Options {
	return &object.Options{PackSize: 16 << 10, Compression: object.ZstdFastest,
		Retries: 2, Backoff: time.Millisecond, RequestTimeout: 5 * time.Second}
}

// value returns value i of a test: text-like or random, 0 to 9 KiB.
func value(i int) []byte {
	rng := rand.New(rand.NewPCG(uint64(i), 9))
	n := rng.IntN(9 << 10)
	if i%2 == 0 {
		return bytes.Repeat(fmt.Appendf(nil, "value %d says hello; ", i), n/20+1)[:n]
	}
	b := make([]byte, n)
	for j := range b {
		b[j] = byte(rng.Uint32())
	}
	return b
}

func key(i int) string { return fmt.Sprintf("key-%04d", i) }

// fill puts values first to last-1 into s and returns what it holds.
func fill(t testing.TB, s *object.Store, first, last int) map[string][]byte {
	t.Helper()
	want := map[string][]byte{}
	for i := first; i < last; i++ {
		if _, err := s.Put(key(i), value(i), []byte(key(i))); err != nil {
			t.Fatalf("Put(%q): %v", key(i), err)
		}
		want[key(i)] = value(i)
	}
	return want
}

// check verifies that s holds exactly want, values and metas.
func check(t testing.TB, s *object.Store, want map[string][]byte) {
	t.Helper()
	checkValues(t, s, want)
	if n := s.Len(); n != int64(len(want)) {
		t.Fatalf("Len = %d, want %d", n, len(want))
	}
}

// checkValues verifies that s holds want's values and metas.
func checkValues(t testing.TB, s *object.Store, want map[string][]byte) {
	t.Helper()
	for k, v := range want {
		err := s.ViewMeta(k, func(got, meta []byte) error {
			if !bytes.Equal(got, v) || string(meta) != k {
				return fmt.Errorf("got %d bytes, meta %q; want %d bytes, meta %q", len(got), meta, len(v), k)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("ViewMeta(%q): %v", k, err)
		}
	}
}

// get returns key's value, or the error.
func get(s *object.Store, k string) ([]byte, error) {
	v, _, err := s.GetMeta(k, nil)
	return v, err
}

func mustSync(t testing.TB, s *object.Store) {
	t.Helper()
	if err := s.Sync(); err != nil {
		t.Fatalf("Sync: %v", err)
	}
}

func mustClose(t testing.TB, s *object.Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func wantCorrupt(t testing.TB, what string, err error) {
	t.Helper()
	var ce *object.CorruptError
	if !errors.Is(err, tier.ErrCorrupt) || !errors.As(err, &ce) {
		t.Fatalf("%s = %v; want a *CorruptError wrapping tier.ErrCorrupt", what, err)
	}
}
