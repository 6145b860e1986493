package bundle_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem/bundle"
	"github.com/tiermem/tiermem/internal/dataset"
)

// benchKeys is the number of keys of the benchmark bundles. The default keeps
// `go test -bench .` quick; the figures in BENCHMARKS.md use 10 million:
//
//	flock /tmp/tiermem-bench.lock go test -run '^$' -bench . -benchmem ./bundle -bundle.keys 10000000
var benchKeys = flag.Int("bundle.keys", 100_000, "keys in the benchmark bundles")

// lookups is how many distinct keys the lookup benchmarks cycle through, in a
// random order: enough that they do not stay in the CPU caches.
const lookups = 1 << 20

// benchRecords yields the benchmark records: 16-byte keys, 32-byte unique
// values, in a scrambled order.
func benchRecords(n int) func(yield func([]byte, []byte) bool) { return dataset.Scrambled(n) }

// fixture is a bundle of benchKeys keys of each kind, the same data in a Go
// map, and keys to look up; built once and shared by the benchmarks.
type fixture struct {
	dir     string
	paths   map[bundle.IndexKind]string
	m       map[string][]byte
	keys    [][]byte // lookup order
	buildNs map[bundle.IndexKind]time.Duration
}

var (
	fixtureOnce sync.Once
	shared      fixture
)

func benchFixture(b *testing.B) *fixture {
	b.Helper()
	fixtureOnce.Do(func() { shared = newFixture(b, *benchKeys) })
	if shared.dir == "" {
		b.Fatal("the benchmark fixture failed to build")
	}
	return &shared
}

func newFixture(b *testing.B, n int) fixture {
	dir, err := os.MkdirTemp("", "bundle-bench-")
	if err != nil {
		b.Fatal(err)
	}
	f := fixture{dir: dir, paths: map[bundle.IndexKind]string{}, buildNs: map[bundle.IndexKind]time.Duration{}}
	for _, kind := range []bundle.IndexKind{bundle.Exact, bundle.Approximate} {
		f.paths[kind] = filepath.Join(dir, kind.String()+".bundle")
		if _, err := bundle.Build(f.paths[kind], benchRecords(n), &bundle.Options{Index: kind}); err != nil {
			b.Fatal(err)
		}
	}
	f.m = make(map[string][]byte, n)
	for k, v := range benchRecords(n) {
		f.m[string(k)] = append([]byte(nil), v...)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	f.keys = make([][]byte, min(lookups, pow2Floor(n))) // indexed with a mask
	for i := range f.keys {
		f.keys[i] = dataset.Key(make([]byte, 0, dataset.KeySize), rng.IntN(n))
	}
	return f
}

// pow2Floor returns the largest power of two not above n (n ≥ 1).
func pow2Floor(n int) int {
	p := 1
	for p*2 <= n {
		p *= 2
	}
	return p
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// openWarm opens a benchmark bundle with every page in RAM.
func openWarm(b *testing.B, kind bundle.IndexKind) (*bundle.Bundle, *fixture) {
	f := benchFixture(b)
	bd, err := bundle.Open(f.paths[kind])
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bd.Close() })
	if err := bd.Load(); err != nil {
		b.Fatal(err)
	}
	return bd, f
}

// BenchmarkGet looks keys up in a bundle whose pages are in RAM.
func BenchmarkGet(b *testing.B) {
	for _, kind := range []bundle.IndexKind{bundle.Exact, bundle.Approximate} {
		b.Run(kind.String(), func(b *testing.B) {
			bd, f := openWarm(b, kind)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := bd.Get(f.keys[i&(len(f.keys)-1)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMapGet is the baseline of BenchmarkGet: the same keys in a Go
// map[string][]byte.
func BenchmarkMapGet(b *testing.B) {
	f := benchFixture(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, ok := f.m[string(f.keys[i&(len(f.keys)-1)])]; !ok {
			b.Fatal("missing key")
		}
	}
}

// BenchmarkGetAndRead is BenchmarkGet/exact with the first byte of each
// value read: a direct entry leads Get to its value without reading it, so
// reading it is one more cache miss, where BenchmarkGet measures the lookup.
func BenchmarkGetAndRead(b *testing.B) {
	bd, f := openWarm(b, bundle.Exact)
	b.ReportAllocs()
	b.ResetTimer()
	var sum byte
	for i := 0; b.Loop(); i++ {
		v, err := bd.Get(f.keys[i&(len(f.keys)-1)])
		if err != nil {
			b.Fatal(err)
		}
		sum += v[0]
	}
	sink = sum
}

// BenchmarkMapGetAndRead is the baseline of BenchmarkGetAndRead.
func BenchmarkMapGetAndRead(b *testing.B) {
	f := benchFixture(b)
	b.ReportAllocs()
	b.ResetTimer()
	var sum byte
	for i := 0; b.Loop(); i++ {
		sum += f.m[string(f.keys[i&(len(f.keys)-1)])][0]
	}
	sink = sum
}

// sink keeps the values the benchmarks read.
var sink byte

// BenchmarkGetLatency makes each lookup depend on the one before (the next
// key's index includes a bit of the value found), so that lookups cannot
// overlap: the time of one lookup, where BenchmarkGet measures throughput.
func BenchmarkGetLatency(b *testing.B) {
	bd, f := openWarm(b, bundle.Exact)
	b.ReportAllocs()
	b.ResetTimer()
	j := 0
	for i := 0; b.Loop(); i++ {
		v, err := bd.Get(f.keys[(i+j)&(len(f.keys)-1)])
		if err != nil {
			b.Fatal(err)
		}
		j += int(v[0] & 1)
	}
}

// BenchmarkMapGetLatency is the baseline of BenchmarkGetLatency.
func BenchmarkMapGetLatency(b *testing.B) {
	f := benchFixture(b)
	b.ReportAllocs()
	b.ResetTimer()
	j := 0
	for i := 0; b.Loop(); i++ {
		v := f.m[string(f.keys[(i+j)&(len(f.keys)-1)])]
		j += int(v[0] & 1)
	}
}

// BenchmarkGetParallel looks keys up from every core at once.
func BenchmarkGetParallel(b *testing.B) {
	bd, f := openWarm(b, bundle.Exact)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := rand.IntN(len(f.keys))
		for pb.Next() {
			if _, err := bd.Get(f.keys[i&(len(f.keys)-1)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkOpen opens and closes the benchmark bundle: its cost must not
// depend on the number of keys.
func BenchmarkOpen(b *testing.B) {
	f := benchFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		bd, err := bundle.Open(f.paths[bundle.Exact])
		if err != nil {
			b.Fatal(err)
		}
		bd.Close()
	}
}

// BenchmarkBuild builds a bundle of benchKeys shuffled keys and reports the
// keys written per second.
func BenchmarkBuild(b *testing.B) {
	dir := b.TempDir()
	n := *benchKeys
	b.SetBytes(int64(n) * (dataset.KeySize + dataset.ValueSize))
	for i := 0; b.Loop(); i++ {
		if _, err := bundle.Build(filepath.Join(dir, fmt.Sprint(i)), benchRecords(n), nil); err != nil {
			b.Fatal(err)
		}
		os.Remove(filepath.Join(dir, fmt.Sprint(i)))
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
}

// BenchmarkAll iterates every record of the bundle.
func BenchmarkAll(b *testing.B) {
	bd, _ := openWarm(b, bundle.Exact)
	b.ReportAllocs()
	for b.Loop() {
		for _, err := range bd.All() {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(bd.Len())*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
