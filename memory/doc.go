// Package memory gives byte regions with typed access, inside or outside the Go
// heap: a read-only [Memory], a [WritableMemory], sub-regions of either, and a
// positional [Buffer] or [WritableBuffer] over any of them.
//
// A region is backed by a Go []byte ([Wrap]), by anonymous memory outside the Go
// heap ([Allocate], for sizes far beyond what the garbage collector should
// scan), or by a memory-mapped file ([Map], [MapWritable]), at any offset of
// the file, page-aligned or not. Reads and writes of every fixed-size Go
// numeric type and bool go to a byte offset in the byte order chosen when the
// view is made ([Memory.WithOrder]), so a region can hold a C-like struct
// layout that another process or language reads the same way.
//
//	h, err := memory.Allocate(1 << 30) // 1 GiB, not scanned by the GC
//	if err != nil { ... }
//	defer h.Close()
//	w := h.Writable()
//	w.PutInt64(8, 42)
//	r := w.ReadOnly().Region(8, 8) // a read-only view of 8 bytes
//	_ = r.GetInt64(0)              // 42
//
// # Views, owners and lifetime
//
// Memory and WritableMemory are small values (views) that share one underlying
// block. Only the owner of the block can free it: the [Handle] returned by
// Allocate and Map, or the [RequestServer] that handed the memory out. Views
// have no Close. Once the owner closes the block every view of it, however
// derived, sees it as closed: any access panics with an [*AccessError] that
// wraps [ErrClosed] instead of touching unmapped memory. Closing must not run
// concurrently with accesses through views of the same block; as with any Go
// resource, the caller orders Close after the last use.
//
// A finalizer-style cleanup reports an off-heap allocation or mapping whose
// Handle was garbage collected without Close (see [SetLeakReporter]); it
// never frees the memory, because views may still use it.
//
// # Bounds
//
// Every access is checked against the view's capacity with a single
// comparison. An access out of range is a caller bug, like a slice index out of
// range: it panics with an [*AccessError] wrapping [ErrOutOfRange] that names
// the offset, the length and the capacity, and never reads or writes memory
// outside the view. Operations that allocate, map or do I/O return errors.
//
// # Concurrency
//
// Views are values and may be copied and used from many goroutines. Like a
// []byte, concurrent writes to overlapping bytes, or a write concurrent with a
// read of the same bytes, are data races that the caller must prevent. Handles
// and request servers are safe for concurrent use.
//
// # Zero values
//
// The zero Memory, WritableMemory, Buffer and WritableBuffer are empty (size
// zero) and valid: every access of one or more bytes is out of range.
//
// # Systems
//
// Off-heap memory and mappings work on Linux, macOS and FreeBSD. On macOS and
// FreeBSD, [Reserve] maps like [Allocate] (both systems commit anonymous
// memory only as it is touched) and [WritableHandle.HugePages] does nothing.
// Windows builds fail at compile time; on other systems everything that maps
// returns [ErrUnsupported].
package memory
