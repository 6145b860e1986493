package alloc_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/tiermem/tiermem/alloc"
)

// The alloc/free benchmarks keep a ring of 1024 live allocations of random
// sizes: each operation frees the oldest and allocates a new one, so the
// allocator works with a live set, as a cache does.
const ring = 1024

func randomSizes(n int, lo, hi int64) []int64 {
	rng := rand.New(rand.NewPCG(42, 42))
	sizes := make([]int64, n)
	for i := range sizes {
		sizes[i] = lo + rng.Int64N(hi-lo+1)
	}
	return sizes
}

// BenchmarkSlabAllocFree is one free and one allocation of 64 B–4 KB in a
// slab (the seed's target: under 10 ns per pair).
func BenchmarkSlabAllocFree(b *testing.B) {
	s, err := alloc.NewSlab(256<<20, nil)
	if err != nil {
		b.Fatal(err)
	}
	sizes := randomSizes(ring, 64, 4096)
	offs := make([]int64, ring)
	for i := range offs {
		offs[i], _ = s.Alloc(sizes[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		j := i & (ring - 1)
		if err := s.Free(offs[j], sizes[j]); err != nil {
			b.Fatal(err)
		}
		offs[j], err = s.Alloc(sizes[j])
		if err != nil {
			b.Fatal(err)
		}
	}
}

var heapRing [ring][]byte

// BenchmarkHeapMake is the baseline of BenchmarkSlabAllocFree: the same ring
// of live buffers made with make([]byte, n) on the Go heap (they escape), the
// garbage collector doing the frees.
func BenchmarkHeapMake(b *testing.B) {
	sizes := randomSizes(ring, 64, 4096)
	for i := range heapRing {
		heapRing[i] = make([]byte, sizes[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		j := i & (ring - 1)
		heapRing[j] = make([]byte, sizes[j])
	}
}

// BenchmarkBuddyAllocFree is BenchmarkSlabAllocFree for the buddy allocator.
func BenchmarkBuddyAllocFree(b *testing.B) {
	bd, err := alloc.NewBuddy(256<<20, 64)
	if err != nil {
		b.Fatal(err)
	}
	sizes := randomSizes(ring, 64, 4096)
	offs := make([]int64, ring)
	for i := range offs {
		offs[i], _ = bd.Alloc(sizes[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		j := i & (ring - 1)
		if err := bd.Free(offs[j], sizes[j]); err != nil {
			b.Fatal(err)
		}
		offs[j], err = bd.Alloc(sizes[j])
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkArenaAlloc is one bump allocation of 64 B–4 KB, with a Reset
// whenever the arena fills.
func BenchmarkArenaAlloc(b *testing.B) {
	a, err := alloc.NewArena(64 << 20)
	if err != nil {
		b.Fatal(err)
	}
	sizes := randomSizes(ring, 64, 4096)
	b.ReportAllocs()
	for i := range b.N {
		if _, err := a.Alloc(sizes[i&(ring-1)]); err != nil {
			a.Reset()
		}
	}
}

// fillAndChurn fills a with sizes until it refuses, then replaces a random
// half of the live allocations twice, and returns the stats.
func fillAndChurn(a alloc.Allocator, sizes []int64) alloc.Stats {
	type live struct{ off, size int64 }
	var lives []live
	next := 0
	fill := func() {
		for {
			size := sizes[next%len(sizes)]
			off, err := a.Alloc(size)
			if errors.Is(err, alloc.ErrNoSpace) {
				return
			}
			next++
			lives = append(lives, live{off, size})
		}
	}
	fill()
	rng := rand.New(rand.NewPCG(1, 1))
	for range 2 {
		rng.Shuffle(len(lives), func(i, j int) { lives[i], lives[j] = lives[j], lives[i] })
		for _, l := range lives[len(lives)/2:] {
			a.Free(l.off, l.size)
		}
		lives = lives[:len(lives)/2]
		fill()
	}
	return a.Stats()
}

// BenchmarkSlabFragmentation fills a 1 GiB slab with sizes drawn uniformly
// from 16 B–64 KB, churns half of it twice, and reports internal and external
// fragmentation and the metadata overhead in percent.
func BenchmarkSlabFragmentation(b *testing.B) {
	sizes := randomSizes(1<<16, 16, 64<<10)
	var st alloc.Stats
	for range b.N {
		s, err := alloc.NewSlab(1<<30, nil)
		if err != nil {
			b.Fatal(err)
		}
		st = fillAndChurn(s, sizes)
	}
	reportFragmentation(b, st)
}

// BenchmarkBuddyFragmentation is BenchmarkSlabFragmentation for the buddy
// allocator (64-byte blocks): power-of-two blocks waste about a quarter.
func BenchmarkBuddyFragmentation(b *testing.B) {
	sizes := randomSizes(1<<16, 16, 64<<10)
	var st alloc.Stats
	for range b.N {
		bd, err := alloc.NewBuddy(1<<30, 64)
		if err != nil {
			b.Fatal(err)
		}
		st = fillAndChurn(bd, sizes)
	}
	reportFragmentation(b, st)
}

func reportFragmentation(b *testing.B, st alloc.Stats) {
	b.ReportMetric(100*st.InternalFragmentation, "%internal-frag")
	b.ReportMetric(100*st.ExternalFragmentation, "%external-frag")
	b.ReportMetric(100*st.MetadataOverhead, "%metadata")
	b.ReportMetric(100*float64(st.LiveBytes)/float64(st.Capacity), "%used")
}
