package cache

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"testing"
)

const (
	capacity  = 1 << 16 // entries; every key of the key set fits, so Gets hit
	traceSize = 1 << 20 // requests in the precomputed trace, a power of two
	zipfS     = 0.99
)

// zipfTrace returns n keys drawn from a Zipf distribution of exponent s over
// keys 0..keys-1 (math/rand's Zipf needs s > 1, so this inverts the CDF).
func zipfTrace(n, keys int, s float64, seed uint64) []uint64 {
	cdf := make([]float64, keys)
	sum := 0.0
	for i := range cdf {
		sum += 1 / math.Pow(float64(i+1), s)
		cdf[i] = sum
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	trace := make([]uint64, n)
	for i := range trace {
		trace[i] = uint64(sort.SearchFloat64s(cdf, rng.Float64()*sum))
	}
	return trace
}

var (
	trace  = zipfTrace(traceSize, capacity, zipfS, 1)
	writes = func() []bool { // 25% of the operations are writes, spread evenly at random
		rng := rand.New(rand.NewPCG(2, 2))
		w := make([]bool, traceSize)
		for i := range w {
			w[i] = rng.IntN(4) == 0
		}
		return w
	}()
)

// prefilled returns a cache of a peer holding every key of the key set.
func prefilled(b *testing.B, p peer) client {
	c := p.new(b, capacity)
	for k := range uint64(capacity) {
		c.Set(k, k)
	}
	c.Settle()
	return c
}

// BenchmarkGet measures Gets of a pre-filled cache, keys Zipf-distributed.
func BenchmarkGet(b *testing.B) {
	benchPeers(b, func(c client, i int) { c.Get(trace[i]) })
}

// BenchmarkGetSet measures 75% Gets and 25% Sets of existing keys, chosen per
// operation, on a pre-filled cache, keys Zipf-distributed.
func BenchmarkGetSet(b *testing.B) {
	benchPeers(b, func(c client, i int) {
		if writes[i] {
			c.Set(trace[i], uint64(i))
		} else {
			c.Get(trace[i])
		}
	})
}

// benchPeers runs op in parallel on a pre-filled cache of each peer; op gets
// the index of the trace entry to use, each goroutine starting at a random
// place in the trace. Besides wall time it reports the process's CPU time per
// operation, the steadier figure on a loaded machine.
func benchPeers(b *testing.B, op func(c client, i int)) {
	for _, p := range peers {
		b.Run(p.name, func(b *testing.B) {
			c := prefilled(b, p)
			defer c.Close()
			b.ReportAllocs()
			b.ResetTimer()
			cpu := processCPU()
			b.RunParallel(func(pb *testing.PB) {
				for i := rand.IntN(traceSize); pb.Next(); i++ {
					op(c, i&(traceSize-1))
				}
			})
			cpu = processCPU() - cpu
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op") // every goroutine's, maintenance included
		})
	}
}

// BenchmarkMemoryPerEntry reports the heap bytes per entry of a cache of 1M
// entries (uint64 keys and values), run with -benchtime=1x.
func BenchmarkMemoryPerEntry(b *testing.B) {
	const n = 1 << 20
	for _, p := range peers {
		b.Run(p.name, func(b *testing.B) {
			for range b.N {
				before := heapInUse()
				c := p.new(b, n)
				for k := range uint64(n) {
					c.Set(k, k)
				}
				c.Settle()
				after := heapInUse()
				b.ReportMetric(float64(after-before)/n, "bytes/entry")
				runtime.KeepAlive(c)
				c.Close()
			}
		})
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
