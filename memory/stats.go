package memory

import "sync/atomic"

// Stats counts the memory this package holds outside the Go heap, as a plain
// snapshot (see ReadStats).
type Stats struct {
	OffHeapBytes  int64 // bytes of anonymous memory allocated and not yet closed
	OffHeapBlocks int64 // anonymous allocations not yet closed
	MappedBytes   int64 // bytes of file mappings not yet closed
	MappedFiles   int64 // file mappings not yet closed
	LeakedBlocks  int64 // handles garbage collected without Close (their memory is never freed)
	LeakedBytes   int64 // bytes of those handles
}

var counters struct {
	offHeapBytes, offHeapBlocks atomic.Int64
	mappedBytes, mappedFiles    atomic.Int64
	leakedBlocks, leakedBytes   atomic.Int64
}

// ReadStats returns the current counts.
func ReadStats() Stats {
	return Stats{
		OffHeapBytes:  counters.offHeapBytes.Load(),
		OffHeapBlocks: counters.offHeapBlocks.Load(),
		MappedBytes:   counters.mappedBytes.Load(),
		MappedFiles:   counters.mappedFiles.Load(),
		LeakedBlocks:  counters.leakedBlocks.Load(),
		LeakedBytes:   counters.leakedBytes.Load(),
	}
}

// accountMap adds (sign 1) or removes (sign -1) a mapped block from the counts.
func accountMap(b *block, sign int64) {
	switch b.kind {
	case offHeapBlock:
		counters.offHeapBytes.Add(sign * b.size)
		counters.offHeapBlocks.Add(sign)
	case fileBlock:
		counters.mappedBytes.Add(sign * b.size)
		counters.mappedFiles.Add(sign)
	}
}
