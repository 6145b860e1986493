package disk_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tiermem/tiermem/tier/disk"
)

// Heavy benchmarks measure the disk: run them one at a time on this
// machine, under flock /tmp/tiermem-bench.lock (see BENCHMARKS.md).

// randomBytes returns n incompressible bytes.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// textBytes returns n bytes of words drawn at random from a small
// vocabulary: text that zstd compresses about 3:1.
func textBytes(n int, seed uint64) []byte {
	words := strings.Fields("the cold tier keeps history and processed results on disk in segments " +
		"of checksummed records compressed with zstd when a sample shows it pays 0 1 2 3 4 5 6 7 8 9")
	r := rand.New(rand.NewPCG(seed, seed))
	var b []byte
	for len(b) < n {
		b = append(append(b, words[r.IntN(len(words))]...), ' ')
	}
	return b[:n]
}

func openBench(b *testing.B, opts *disk.Options) *disk.Store {
	b.Helper()
	s, err := disk.Open(b.TempDir(), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// warmPageCache writes and removes warmBytes in dir before a write
// benchmark. This machine is a VM whose first touch of a guest page costs
// about 3 ms per MiB (writes to fresh page cache run at ~0.36 GB/s, to
// recycled pages at ~3 GB/s), so whichever benchmark ran first would pay
// for it; run the write benchmarks with -benchtime 256x so that what they
// write fits in the warmed pages.
func warmPageCache(b *testing.B, dir string) {
	const warmBytes = 512 << 20
	name := filepath.Join(dir, "warm")
	f, err := os.Create(name)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	for range warmBytes / len(buf) {
		f.Write(buf)
	}
	f.Close()
	os.Remove(name)
}

// BenchmarkBufferedWrite1MB is the baseline for BenchmarkPutSequential1MB:
// plain os.File.Write of 1 MB buffers to a file in the same kind of
// directory, no sync.
func BenchmarkBufferedWrite1MB(b *testing.B) {
	dir := b.TempDir()
	warmPageCache(b, dir)
	f, err := os.Create(filepath.Join(dir, "baseline"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := randomBytes(1<<20, 1)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutSequential1MB stores incompressible 1 MB values under new
// keys with the default options (SyncNone, 64 MiB segments, zstd when it
// pays: a sample shows it does not).
func BenchmarkPutSequential1MB(b *testing.B) {
	dir := b.TempDir()
	warmPageCache(b, dir)
	s, err := disk.Open(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	v := randomBytes(1<<20, 2)
	b.SetBytes(int64(len(v)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.Put(fmt.Sprintf("k%09d", i), v, nil); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

const (
	randomValues = 16384 // 64 MiB of 4 KiB values
	blockSize    = 4 << 10
)

// BenchmarkPread4K is the baseline for BenchmarkGetRandom4K: pread of
// random 4 KiB blocks of a 64 MiB file, page cache warm.
func BenchmarkPread4K(b *testing.B) {
	name := filepath.Join(b.TempDir(), "baseline")
	if err := os.WriteFile(name, randomBytes(randomValues*blockSize, 3), 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, blockSize)
	r := rand.New(rand.NewPCG(4, 4))
	b.SetBytes(blockSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.ReadAt(buf, int64(r.IntN(randomValues))*blockSize); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetRandom4K reads random keys of 16384 incompressible 4 KiB
// values (64 MiB), page cache warm, into a reused buffer.
func BenchmarkGetRandom4K(b *testing.B) {
	s := openBench(b, nil)
	keys := make([]string, randomValues)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%09d", i)
		if _, err := s.Put(keys[i], randomBytes(blockSize, uint64(i)), nil); err != nil {
			b.Fatal(err)
		}
	}
	r := rand.New(rand.NewPCG(4, 4))
	buf := make([]byte, 0, blockSize)
	b.SetBytes(blockSize)
	b.ReportAllocs()
	for b.Loop() {
		v, err := s.Get(keys[r.IntN(len(keys))], buf[:0])
		if err != nil || len(v) != blockSize {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutSequential1MBCompressible is BenchmarkPutSequential1MB with
// text-like values: what zstd at its fastest level costs and saves.
func BenchmarkPutSequential1MBCompressible(b *testing.B) {
	s := openBench(b, nil)
	v := textBytes(1<<20, 6)
	b.SetBytes(int64(len(v)))
	b.ReportAllocs()
	var stored int64
	i := 0
	for b.Loop() {
		n, err := s.Put(fmt.Sprintf("k%09d", i), v, nil)
		if err != nil {
			b.Fatal(err)
		}
		stored += n
		i++
	}
	b.ReportMetric(float64(stored)/float64(i)/float64(len(v)), "stored/raw")
}

// BenchmarkPutAlways stores 4 KiB values with SyncAlways from 1 and 8
// goroutines: group commit shows as fsyncs/op well below 1 at 8.
func BenchmarkPutAlways(b *testing.B) {
	for _, writers := range []int{1, 8} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s := openBench(b, &disk.Options{Sync: disk.SyncAlways})
			v := randomBytes(blockSize, 5)
			b.SetBytes(blockSize)
			b.ReportAllocs()
			before := s.Stats()
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						if _, err := s.Put(fmt.Sprintf("k%09d", i), v, nil); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			after := s.Stats()
			b.ReportMetric(float64(after.Fsyncs-before.Fsyncs)/float64(b.N), "fsyncs/op")
		})
	}
}
