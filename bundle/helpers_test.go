package bundle_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tiermem/tiermem/bundle"
)

// rec is one record to add in a test.
type rec struct {
	key, value, meta string
}

// build writes recs into a new bundle in a temporary directory and returns
// its path.
func build(t testing.TB, opts *bundle.Options, recs []rec) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.bundle")
	b, err := bundle.NewBuilder(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := b.AddRecord(bundle.Record{Key: []byte(r.key), Value: []byte(r.value), Meta: []byte(r.meta)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Finish(); err != nil {
		t.Fatal(err)
	}
	return path
}

// open opens the bundle at path and closes it when the test ends.
func open(t testing.TB, path string) *bundle.Bundle {
	t.Helper()
	b, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// randomRecords returns n records with random keys, values drawn from a small
// set (so that many repeat) and, if withMeta, short meta areas.
func randomRecords(n int, seed uint64, withMeta bool) []rec {
	rng := rand.New(rand.NewPCG(seed, 2))
	recs := make([]rec, n)
	for i := range recs {
		recs[i].key = fmt.Sprintf("key-%d", rng.IntN(n*2))
		recs[i].value = fmt.Sprintf("value %d %s", rng.IntN(n/4+1), bytes.Repeat([]byte{'v'}, rng.IntN(40)))
		if withMeta && rng.IntN(2) == 0 {
			recs[i].meta = fmt.Sprint(rng.IntN(100))
		}
	}
	return recs
}

// model is what a bundle built from recs must hold: for each key, its values
// in the order added (only the last one unless multi).
func model(recs []rec, multi bool) map[string][]rec {
	m := map[string][]rec{}
	for _, r := range recs {
		if multi {
			m[r.key] = append(m[r.key], r)
		} else {
			m[r.key] = []rec{r}
		}
	}
	return m
}

// checkContents checks every key of the model with Get, GetRecord and Values,
// and that All yields exactly the model's records.
func checkContents(t *testing.T, b *bundle.Bundle, m map[string][]rec) {
	t.Helper()
	for k, want := range m {
		r, err := b.GetRecord([]byte(k))
		if err != nil || string(r.Value) != want[0].value || string(r.Meta) != want[0].meta {
			t.Fatalf("GetRecord(%q) = %q, %q, %v; want %q, %q", k, r.Value, r.Meta, err, want[0].value, want[0].meta)
		}
		var got []string
		for v, err := range b.Values([]byte(k)) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, string(v))
		}
		if !slices.Equal(got, values(want)) {
			t.Fatalf("Values(%q) = %q, want %q", k, got, values(want))
		}
	}
	if _, err := b.Get([]byte("missing key")); !errors.Is(err, bundle.ErrNotFound) {
		t.Fatalf("Get(missing) error = %v, want ErrNotFound", err)
	}
	checkAll(t, b, m)
}

func values(rs []rec) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.value)
	}
	return out
}

// checkAll checks that All yields each record of m once, keys in hash order.
func checkAll(t *testing.T, b *bundle.Bundle, m map[string][]rec) {
	t.Helper()
	got := map[string][]rec{}
	n := 0
	for r, err := range b.All() {
		if err != nil {
			t.Fatal(err)
		}
		got[string(r.Key)] = append(got[string(r.Key)], rec{string(r.Key), string(r.Value), string(r.Meta)})
		n++
	}
	want := 0
	for k, rs := range m {
		want += len(rs)
		if !slices.Equal(got[k], rs) {
			t.Fatalf("All yields %v for key %q, want %v", got[k], k, rs)
		}
	}
	if n != want || b.Len() != want {
		t.Fatalf("All yields %d records, Len %d, want %d", n, b.Len(), want)
	}
}
