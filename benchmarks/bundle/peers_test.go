package bundlebench

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/akrylysov/pogreb"
	bolt "go.etcd.io/bbolt"

	"github.com/tiermem/tiermem/bundle"
	"github.com/tiermem/tiermem/internal/dataset"
)

// stores holds the same *keys records in a bundle, a Go map, bbolt and
// pogreb, built once for all the lookup benchmarks.
type stores struct {
	dir    string
	bundle *bundle.Bundle // default options: values aligned to 8
	packed *bundle.Bundle // Align 1: no padding
	m      map[string][]byte
	bolt   *bolt.DB
	pogreb *pogreb.DB
	sizes  map[string]int64 // bytes on disk of each store
	lookup [][]byte
}

var (
	storesOnce sync.Once
	shared     *stores
)

func openStores(b *testing.B) *stores {
	b.Helper()
	storesOnce.Do(func() { shared = buildStores(b, *keys) })
	if shared == nil {
		b.Fatal("the stores failed to build")
	}
	return shared
}

func buildStores(b *testing.B, n int) *stores {
	dir, err := os.MkdirTemp("", "bundlebench-")
	if err != nil {
		b.Fatal(err)
	}
	s := &stores{dir: dir, sizes: map[string]int64{}, lookup: lookupKeys(n)}
	timed("bundle", n, func() { s.bundle = s.buildBundle(b, n, "bundle", nil) })
	timed("bundle-packed", n, func() { s.packed = s.buildBundle(b, n, "bundle-packed", &bundle.Options{Align: 1}) })
	timed("map", n, func() {
		s.m = make(map[string][]byte, n)
		for k, v := range shuffled(n) {
			s.m[string(k)] = append([]byte(nil), v...)
		}
	})
	timed("bbolt", n, func() { s.buildBolt(b, n) })
	timed("pogreb", n, func() { s.buildPogreb(b, n) })
	return s
}

// timed runs the build of a store and reports its speed on standard error
// (the lookup benchmarks do not time builds).
func timed(name string, n int, build func()) {
	start := time.Now()
	build()
	d := time.Since(start)
	fmt.Fprintf(os.Stderr, "built %s: %d keys in %.1f s (%.0f keys/s)\n", name, n, d.Seconds(), float64(n)/d.Seconds())
}

func (s *stores) buildBundle(b *testing.B, n int, name string, opts *bundle.Options) *bundle.Bundle {
	path := filepath.Join(s.dir, name)
	if _, err := bundle.Build(path, shuffled(n), opts); err != nil {
		b.Fatal(err)
	}
	bd, err := bundle.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := bd.Load(); err != nil {
		b.Fatal(err)
	}
	s.sizes[name] = bd.Info().FileSize
	return bd
}

// buildBolt loads bbolt at its best: keys in sorted order, full pages
// (FillPercent 1), 100,000 keys a transaction, no sync until the end.
func (s *stores) buildBolt(b *testing.B, n int) {
	path := filepath.Join(s.dir, "data.bolt")
	db, err := bolt.Open(path, 0o644, &bolt.Options{NoSync: true, NoFreelistSync: true})
	if err != nil {
		b.Fatal(err)
	}
	var k, v [32]byte
	for start := 0; start < n; start += 100_000 {
		err := db.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte("data"))
			if err != nil {
				return err
			}
			bk.FillPercent = 1
			for i := start; i < min(start+100_000, n); i++ {
				if err := bk.Put(dataset.Key(k[:], i), dataset.Value(v[:], i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Sync(); err != nil {
		b.Fatal(err)
	}
	s.bolt, s.sizes["bbolt"] = db, dirSize(b, path)
}

func (s *stores) buildPogreb(b *testing.B, n int) {
	dir := filepath.Join(s.dir, "data.pogreb")
	db, err := pogreb.Open(dir, &pogreb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for k, v := range shuffled(n) {
		if err := db.Put(k, v); err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Sync(); err != nil {
		b.Fatal(err)
	}
	s.pogreb, s.sizes["pogreb"] = db, dirSize(b, dir)
}

func TestMain(m *testing.M) {
	if runChild() {
		return
	}
	code := m.Run()
	if shared != nil {
		shared.bundle.Close()
		shared.packed.Close()
		shared.bolt.Close()
		shared.pogreb.Close()
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// BenchmarkLookup looks up the same random keys in each store, warm (every
// store's pages in RAM), and reports the store's size on disk per key.
func BenchmarkLookup(b *testing.B) {
	s := openStores(b)
	lookups := []struct {
		name string
		get  func(k []byte) bool
	}{
		{"bundle", func(k []byte) bool { _, err := s.bundle.Get(k); return err == nil }},
		{"bundle-packed", func(k []byte) bool { _, err := s.packed.Get(k); return err == nil }},
		{"map", func(k []byte) bool { _, ok := s.m[string(k)]; return ok }},
		{"pogreb", func(k []byte) bool { v, err := s.pogreb.Get(k); return err == nil && v != nil }},
	}
	for _, l := range lookups {
		b.Run(l.name, func(b *testing.B) { lookupLoop(b, s, l.get, s.sizes[l.name]) })
	}
	b.Run("bbolt", func(b *testing.B) {
		tx, err := s.bolt.Begin(false) // one read transaction: bbolt's fastest reads
		if err != nil {
			b.Fatal(err)
		}
		defer tx.Rollback()
		bk := tx.Bucket([]byte("data"))
		lookupLoop(b, s, func(k []byte) bool { return bk.Get(k) != nil }, s.sizes["bbolt"])
	})
}

// lookupLoop runs get over the lookup keys and reports the store's size.
func lookupLoop(b *testing.B, s *stores, get func([]byte) bool, size int64) {
	for _, k := range s.lookup { // warm the store's pages and caches
		get(k)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if !get(s.lookup[i&(len(s.lookup)-1)]) {
			b.Fatal("a key is missing")
		}
	}
	if size > 0 {
		b.ReportMetric(float64(size)/float64(*keys), "disk-bytes/key")
	}
}
