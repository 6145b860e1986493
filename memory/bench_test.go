package memory_test

import (
	"encoding/binary"
	"testing"

	"github.com/tiermem/tiermem/memory"
)

var sink int64

// The accessor benchmarks read and write int64 values over 64 KiB (in L1/L2)
// so that they measure the access path, not the memory system.
const (
	benchWords = 8 << 10
	benchMask  = benchWords - 1
)

func offHeap(b *testing.B, size int64) memory.WritableMemory {
	h, err := memory.Allocate(size)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	return h.Writable()
}

// BenchmarkGetLong reads int64 values from off-heap memory through the
// bounds- and close-checked accessor.
func BenchmarkGetLong(b *testing.B) {
	w := offHeap(b, benchWords*8)
	b.ReportAllocs()
	b.SetBytes(8)
	var sum int64
	for i := range b.N {
		sum += w.GetInt64(int64(i&benchMask) << 3)
	}
	sink = sum
}

// BenchmarkSliceIndex is the baseline of BenchmarkGetLong: plain indexing of
// an []int64 of the same size.
func BenchmarkSliceIndex(b *testing.B) {
	s := make([]int64, benchWords)
	b.ReportAllocs()
	b.SetBytes(8)
	var sum int64
	for i := range b.N {
		sum += s[i&benchMask]
	}
	sink = sum
}

// BenchmarkPutLong writes int64 values to off-heap memory.
func BenchmarkPutLong(b *testing.B) {
	w := offHeap(b, benchWords*8)
	b.ReportAllocs()
	b.SetBytes(8)
	for i := range b.N {
		w.PutInt64(int64(i&benchMask)<<3, int64(i))
	}
}

// BenchmarkSlicePut is the baseline of BenchmarkPutLong.
func BenchmarkSlicePut(b *testing.B) {
	s := make([]int64, benchWords)
	b.ReportAllocs()
	b.SetBytes(8)
	for i := range b.N {
		s[i&benchMask] = int64(i)
	}
	sink = s[0]
}

// BenchmarkGetLongBigEndian reads byte-swapped values.
func BenchmarkGetLongBigEndian(b *testing.B) {
	w := offHeap(b, benchWords*8).WithOrder(memory.BigEndian)
	b.ReportAllocs()
	b.SetBytes(8)
	var sum int64
	for i := range b.N {
		sum += w.GetInt64(int64(i&benchMask) << 3)
	}
	sink = sum
}

const copySize = 256 << 20

// BenchmarkCopyOffHeap copies 256 MiB between two off-heap regions with Copy.
func BenchmarkCopyOffHeap(b *testing.B) {
	src, dst := offHeap(b, copySize), offHeap(b, copySize)
	src.Fill(0, copySize, 1)
	dst.Fill(0, copySize, 2) // fault the pages in before timing
	b.ReportAllocs()
	b.SetBytes(copySize)
	b.ResetTimer()
	for range b.N {
		memory.Copy(dst, 0, src.ReadOnly(), 0, copySize)
	}
}

// BenchmarkCopySlices is the baseline of BenchmarkCopyOffHeap: Go's copy
// between two 256 MiB slices.
func BenchmarkCopySlices(b *testing.B) {
	src, dst := make([]byte, copySize), make([]byte, copySize)
	for i := range src {
		src[i], dst[i] = 1, 2
	}
	b.ReportAllocs()
	b.SetBytes(copySize)
	b.ResetTimer()
	for range b.N {
		copy(dst, src)
	}
}

// BenchmarkByteSliceGetLong is the other baseline of BenchmarkGetLong: what Go
// code without this package writes to read an int64 at a byte offset.
func BenchmarkByteSliceGetLong(b *testing.B) {
	s := byteSlice(benchWords * 8)
	b.ReportAllocs()
	b.SetBytes(8)
	var sum int64
	for i := range b.N {
		sum += int64(binary.LittleEndian.Uint64(s[(i&benchMask)<<3:]))
	}
	sink = sum
}

// byteSlice hides the length of the slice from the compiler, as in real code.
//
//go:noinline
func byteSlice(n int) []byte { return make([]byte, n) }

// BenchmarkSliceOffHeap indexes off-heap memory through the typed slice that
// memory.Slice returns: plain slice speed for hot loops.
func BenchmarkSliceOffHeap(b *testing.B) {
	s, err := memory.Slice[int64](offHeap(b, benchWords*8).ReadOnly(), 0, benchWords)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(8)
	var sum int64
	for i := range b.N {
		sum += s[i&benchMask]
	}
	sink = sum
}
