package extsort_test

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tiermem/tiermem/internal/extsort"
)

type item struct {
	key uint64
	rec []byte
	seq int
}

// randomItems returns n records with few distinct keys, so that ties are common.
func randomItems(n int, seed uint64) []item {
	rng := rand.New(rand.NewPCG(seed, 1))
	items := make([]item, n)
	for i := range items {
		rec := make([]byte, rng.IntN(40))
		for j := range rec {
			rec[j] = byte('a' + rng.IntN(3))
		}
		items[i] = item{key: rng.Uint64N(uint64(n/4 + 1)), rec: rec, seq: i}
	}
	return items
}

// expected sorts a copy of items the way the Sorter must: key, compare, insertion.
func expected(items []item, compare func(a, b []byte) int) []item {
	want := slices.Clone(items)
	slices.SortStableFunc(want, func(a, b item) int {
		if c := cmp.Compare(a.key, b.key); c != 0 || compare == nil {
			return c
		}
		return compare(a.rec, b.rec)
	})
	return want
}

func TestSortMatchesStableSort(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		memory  int64
		fanIn   int
		compare func(a, b []byte) int
	}{
		{"empty", 0, 1 << 20, 0, nil},
		{"in memory", 1000, 1 << 20, 0, nil},
		{"in memory with compare", 1000, 1 << 20, 0, bytes.Compare},
		{"radix", 20000, 4 << 20, 0, nil},
		{"radix with compare", 20000, 4 << 20, 0, bytes.Compare},
		{"radix spilled", 50000, 1 << 20, 0, bytes.Compare},
		{"spilled", 5000, 8 << 10, 0, nil},
		{"spilled with compare", 5000, 8 << 10, 0, bytes.Compare},
		{"multi-level merge", 5000, 4 << 10, 3, bytes.Compare},
		{"one record per run", 50, 1, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			items := randomItems(tt.n, uint64(tt.n))
			s := extsort.New(extsort.Options{Dir: dir, MemoryLimit: tt.memory, FanIn: tt.fanIn, Compare: tt.compare})
			t.Cleanup(func() { s.Close() })
			for _, it := range items {
				if err := s.Add(it.key, it.rec); err != nil {
					t.Fatal(err)
				}
			}
			if s.Len() != int64(tt.n) {
				t.Fatalf("Len = %d, want %d", s.Len(), tt.n)
			}
			it, err := s.Sort()
			if err != nil {
				t.Fatal(err)
			}
			want := expected(items, tt.compare)
			i := 0
			for ; it.Next(); i++ {
				if i >= len(want) {
					t.Fatalf("more than %d records", len(want))
				}
				if it.Key() != want[i].key || !bytes.Equal(it.Record(), want[i].rec) {
					t.Fatalf("record %d = (%d, %q), want (%d, %q) (added as #%d)", i, it.Key(), it.Record(), want[i].key, want[i].rec, want[i].seq)
				}
			}
			if err := it.Err(); err != nil {
				t.Fatal(err)
			}
			if i != len(want) {
				t.Fatalf("%d records, want %d", i, len(want))
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			assertEmpty(t, dir)
		})
	}
}

// assertEmpty checks that the sorter left no run files behind.
func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	left, _ := os.ReadDir(dir)
	if len(left) != 0 {
		t.Fatalf("%d files left in the run directory", len(left))
	}
}

func TestRadixSortWithEqualBytes(t *testing.T) {
	// keys that share all but their low byte, then all but their high byte:
	// the radix sort skips the passes where every key has the same byte.
	for _, shift := range []uint{0, 56} {
		s := extsort.New(extsort.Options{Dir: t.TempDir()})
		var items []item
		for i := range 3000 {
			it := item{key: uint64(i*7%256) << shift, rec: []byte{byte(i)}, seq: i}
			items = append(items, it)
			s.Add(it.key, it.rec)
		}
		it, _ := s.Sort()
		for i, want := range expected(items, nil) {
			if !it.Next() || it.Key() != want.key || it.Record()[0] != want.rec[0] {
				t.Fatalf("shift %d: record %d is (%d, %v), want (%d, %v)", shift, i, it.Key(), it.Record(), want.key, want.rec)
			}
		}
		s.Close()
	}
}

func TestRecordsOutlastTheCallersBuffer(t *testing.T) {
	s := extsort.New(extsort.Options{Dir: t.TempDir()})
	defer s.Close()
	buf := []byte("first")
	s.Add(1, buf)
	copy(buf, "XXXXX")
	it, _ := s.Sort()
	it.Next()
	if got := string(it.Record()); got != "first" {
		t.Fatalf("record = %q: Add must copy", got)
	}
}

func TestAddAfterSortAndClose(t *testing.T) {
	s := extsort.New(extsort.Options{Dir: t.TempDir()})
	if _, err := s.Sort(); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(1, nil); !errors.Is(err, extsort.ErrSorted) {
		t.Fatalf("Add after Sort: %v, want ErrSorted", err)
	}
	s.Close()
	if err := s.Add(1, nil); !errors.Is(err, extsort.ErrClosed) {
		t.Fatalf("Add after Close: %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestCloseWithoutSortRemovesRuns(t *testing.T) {
	dir := t.TempDir()
	s := extsort.New(extsort.Options{Dir: dir, MemoryLimit: 1 << 10})
	for i := range 1000 {
		s.Add(uint64(i), []byte("some bytes to fill the buffer"))
	}
	if s.Runs() == 0 {
		t.Fatal("nothing was spilled")
	}
	s.Close()
	assertEmpty(t, dir)
}

func TestTruncatedRunIsCorrupt(t *testing.T) {
	dir := t.TempDir()
	// Runs of about 128 KiB, longer than a run reader's 64 KiB buffer, so
	// that truncating them after Sort is seen by the merge.
	s := extsort.New(extsort.Options{Dir: dir, MemoryLimit: 256 << 10})
	defer s.Close()
	for i := range 4000 {
		s.Add(uint64(i), fmt.Appendf(nil, "record %d %0200d", i, i))
	}
	it, err := s.Sort()
	if err != nil {
		t.Fatal(err)
	}
	runs, _ := filepath.Glob(filepath.Join(dir, "extsort-run-*"))
	for _, r := range runs {
		st, _ := os.Stat(r)
		os.Truncate(r, st.Size()-3)
	}
	for it.Next() {
	}
	if !errors.Is(it.Err(), extsort.ErrCorruptRun) {
		t.Fatalf("Err = %v, want ErrCorruptRun", it.Err())
	}
}
