package memory

import (
	"runtime"
	"unsafe"
)

// chunkSize bounds the bytes moved by one uninterruptible runtime memmove, so
// that copying gigabytes lets the scheduler and the GC in between chunks.
// 1 MiB takes about 0.15 ms at 7 GB/s and still uses memmove's large-copy
// (non-temporal store) path.
const chunkSize = 1 << 20

// copyChunked moves n bytes from src to dst with memmove semantics (the ranges
// may overlap), one chunk at a time.
func copyChunked(dst, src unsafe.Pointer, n int64) {
	if n <= chunkSize {
		copy(unsafe.Slice((*byte)(dst), n), unsafe.Slice((*byte)(src), n))
		return
	}
	if uintptr(dst) > uintptr(src) && uintptr(dst) < uintptr(src)+uintptr(n) {
		// dst overlaps the end of src: copy from the end backwards.
		for i, end := 0, n; end > 0; i, end = i+1, end-chunkSize {
			start := max(end-chunkSize, 0)
			copy(unsafe.Slice((*byte)(unsafe.Add(dst, start)), end-start), unsafe.Slice((*byte)(unsafe.Add(src, start)), end-start))
			yieldEvery(i)
		}
		return
	}
	for i, start := 0, int64(0); start < n; i, start = i+1, start+chunkSize {
		size := min(chunkSize, n-start)
		copy(unsafe.Slice((*byte)(unsafe.Add(dst, start)), size), unsafe.Slice((*byte)(unsafe.Add(src, start)), size))
		yieldEvery(i)
	}
}

// yieldEvery lets the scheduler in after every yieldChunks chunks. The
// runtime cannot preempt a goroutine inside memmove, where a long copy
// spends nearly all its time, so without an explicit point a copy of
// gigabytes held off a stop-the-world phase of the GC for seconds (measured:
// 3.3 s for the demo's 500 MB arrays), and with it the memory that
// collection would have returned.
func yieldEvery(i int) {
	if i%yieldChunks == yieldChunks-1 {
		runtime.Gosched()
	}
}

// yieldChunks is how many chunks go between two yields: 8 MiB, about a
// millisecond of copying.
const yieldChunks = 8

// Copy copies n bytes from src at srcOff to dst at dstOff, like memmove: the
// ranges may overlap, in the same memory or not. A copy of gigabytes runs in
// chunks and does not stall the scheduler. Either range out of bounds panics
// before any byte is written.
func Copy(dst WritableMemory, dstOff int64, src Memory, srcOff, n int64) {
	d := dst.check("copy", dstOff, n)
	s := src.check("copy", srcOff, n)
	if n == 0 {
		return
	}
	copyChunked(d, s, n)
}

// chunks calls f on consecutive pieces, of at most chunkSize bytes, of the n
// bytes at p, so that long scans let the scheduler in between pieces. It stops
// early when f returns false.
func chunks(p unsafe.Pointer, n int64, f func(piece []byte) bool) {
	for start := int64(0); start < n; start += chunkSize {
		if !f(unsafe.Slice((*byte)(unsafe.Add(p, start)), min(chunkSize, n-start))) {
			return
		}
	}
}
