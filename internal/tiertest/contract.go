package tiertest

// The checks of the contract's plain promises: values round-trip, errors are
// the sentinels, sizes add up, a random script matches a map, and goroutines
// on different keys do not disturb each other.

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/tiermem/tiermem/tier"
)

// value returns n pseudo-random (incompressible) bytes that depend on seed.
func value(seed, n int) []byte {
	b := make([]byte, n)
	rng := rand.New(rand.NewPCG(uint64(seed), 99))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func roundTrip(t *testing.T, s tier.Store) {
	defer s.Close()
	for i, n := range []int{0, 1, 100, 4096, 70 << 10, 3 << 20} {
		key := fmt.Sprintf("key-%d", i)
		want := value(i, n)
		_, err := s.Put(key, want, []byte("meta"))
		must(t, err)
		got, err := get(s, key, []byte("prefix"))
		must(t, err)
		if !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Fatalf("Get(%q) of %d bytes returned %d bytes, or other bytes", key, n, len(got)-6)
		}
		must(t, view(s, key, func(v []byte) error {
			if !bytes.Equal(v, want) {
				t.Fatalf("View(%q) differs", key)
			}
			return nil
		}))
	}
	_, err := s.Put("key-1", []byte("replaced"), nil)
	must(t, err)
	got, err := get(s, "key-1", nil)
	must(t, err)
	if string(got) != "replaced" {
		t.Fatalf("after a replace Get = %q", got)
	}
	checkMeta(t, s)
	checkScan(t, s, map[string]string{"key-0": "meta", "key-1": "", "key-2": "meta", "key-3": "meta", "key-4": "meta", "key-5": "meta"})
}

func checkMeta(t *testing.T, mv tier.Store) {
	t.Helper()
	meta, err := mv.Meta("key-2")
	if err != nil || string(meta) != "meta" {
		t.Errorf("Meta(key-2) = %q, %v", meta, err)
	}
	if meta, err := mv.Meta("key-1"); err != nil || len(meta) != 0 {
		t.Errorf("Meta of a key stored without meta = %q, %v", meta, err)
	}
	if _, err := mv.Meta("missing"); !errors.Is(err, tier.ErrNotFound) {
		t.Errorf("Meta of a missing key = %v", err)
	}
	err = mv.ViewMeta("key-3", func(value, meta []byte) error {
		if len(value) != 4096 || string(meta) != "meta" {
			t.Errorf("ViewMeta(key-3) gave %d bytes and meta %q", len(value), meta)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

func checkScan(t *testing.T, sc tier.Store, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	must(t, sc.Scan(func(key string, meta []byte, size int64) error {
		if size <= 0 {
			t.Errorf("Scan: %q occupies %d bytes", key, size)
		}
		got[key] = string(meta)
		return nil
	}))
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Scan saw %v, want %v", got, want)
	}
}

func errorsOf(t *testing.T, s tier.Store) {
	defer s.Close()
	if _, err := get(s, "missing", nil); !errors.Is(err, tier.ErrNotFound) {
		t.Errorf("Get of a missing key = %v", err)
	}
	if err := view(s, "missing", func([]byte) error { return nil }); !errors.Is(err, tier.ErrNotFound) {
		t.Errorf("View of a missing key = %v", err)
	}
	if _, err := s.Delete("missing"); !errors.Is(err, tier.ErrNotFound) {
		t.Errorf("Delete of a missing key = %v", err)
	}
	if _, err := s.Put("", []byte("x"), nil); !errors.Is(err, tier.ErrInvalidKey) {
		t.Errorf("Put with an empty key = %v", err)
	}
	_, err := s.Put("k", []byte("v"), nil)
	must(t, err)
	boom := errors.New("boom")
	if err := view(s, "k", func([]byte) error { return boom }); err != boom {
		t.Errorf("View does not return fn's error: %v", err)
	}
}

func sizes(t *testing.T, s tier.Store) {
	defer s.Close()
	small, err := s.Put("small", value(1, 10), nil)
	must(t, err)
	big, err := s.Put("big", value(2, 1<<20), nil)
	must(t, err)
	if small <= 0 || big < 1<<19 || big <= small {
		t.Errorf("Put sizes: %d for 10 bytes, %d for 1 MiB", small, big)
	}
	if s.Used() != small+big || s.Len() != 2 {
		t.Errorf("Used %d, Len %d; Put charged %d + %d for 2 keys", s.Used(), s.Len(), small, big)
	}
	replaced, err := s.Put("small", value(3, 20), nil)
	must(t, err)
	if s.Used() != replaced+big || s.Len() != 2 {
		t.Errorf("after a replace: Used %d, Len %d; want %d, 2", s.Used(), s.Len(), replaced+big)
	}
	freed, err := s.Delete("big")
	must(t, err)
	if freed != big {
		t.Errorf("Delete freed %d bytes, Put charged %d", freed, big)
	}
	if s.Used() != replaced || s.Len() != 1 {
		t.Errorf("after Delete: Used %d, Len %d; want %d, 1", s.Used(), s.Len(), replaced)
	}
}

// model runs random operations against a map and compares.
func model(t *testing.T, s tier.Store) {
	defer s.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	want := map[string][]byte{}
	for i := range 5000 {
		key := fmt.Sprintf("k%d", rng.IntN(300))
		switch rng.IntN(4) {
		case 0, 1:
			v := value(i, rng.IntN(3000))
			_, err := s.Put(key, v, nil)
			must(t, err)
			want[key] = v
		case 2:
			_, err := s.Delete(key)
			if _, ok := want[key]; ok != (err == nil) {
				t.Fatalf("Delete(%q) = %v, model has it: %v", key, err, ok)
			}
			delete(want, key)
		case 3:
			got, err := get(s, key, nil)
			w, ok := want[key]
			if ok != (err == nil) || !bytes.Equal(got, w) {
				t.Fatalf("Get(%q) = %d bytes, %v; model: %d bytes, %v", key, len(got), err, len(w), ok)
			}
		}
	}
	n := 0
	must(t, s.Scan(func(key string, _ []byte, _ int64) error {
		if _, ok := want[key]; !ok {
			t.Errorf("Scan returns %q, which the model lacks", key)
		}
		n++
		return nil
	}))
	if n != len(want) {
		t.Errorf("Scan saw %d keys, model has %d", n, len(want))
	}
}

func concurrent(t *testing.T, s tier.Store) {
	defer s.Close()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 500 {
				key := fmt.Sprintf("g%d-%d", g, i%50)
				v := value(g*1000+i, 64+i%700)
				if _, err := s.Put(key, v, nil); err != nil {
					t.Error(err)
					return
				}
				got, err := get(s, key, nil)
				if err != nil || !bytes.Equal(got, v) {
					t.Errorf("Get(%q) after Put: %v", key, err)
					return
				}
				if i%3 == 0 {
					s.Delete(key)
				}
				view(s, fmt.Sprintf("g%d-%d", (g+1)%4, i%50), func([]byte) error { return nil })
			}
		})
	}
	wg.Wait()
}
