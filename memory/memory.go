package memory

import (
	"fmt"
	"unsafe"
)

// view is what Memory and WritableMemory share: a window of a block and the
// byte order of its multi-byte values. Its read methods are promoted to both.
//
// It has at most four fields so that the compiler keeps it in registers.
type view struct {
	b    *block
	off  int64 // offset of the window within the block
	size int64 // capacity of the window in bytes
	swap bool  // the view's order differs from the host's: values are byte-swapped
}

// Memory is a read-only view of a byte region. Its methods never write.
// A Memory is a small value: copy it freely. The zero Memory is empty.
type Memory struct{ view }

// WritableMemory is a view of a byte region that can also be written. It has
// every method of Memory; ReadOnly gives a Memory of the same bytes, and there
// is no way back from a Memory to a WritableMemory. The zero WritableMemory is
// empty.
type WritableMemory struct {
	_ writable // makes the type distinct, so a Memory cannot be converted to it
	view
}

// writable marks the types that can write; it has no size.
type writable struct{}

// Wrap returns writable memory over b, in little-endian order, without
// copying: the memory and b share their bytes. It never becomes invalid.
func Wrap(b []byte) WritableMemory {
	blk := newHeapBlock(b)
	return WritableMemory{view: newView(blk)}
}

func newView(b *block) view {
	return view{b: b, size: b.size, swap: nativeOrder != LittleEndian}
}

// at returns the address of byte off of the view after checking that
// [off, off+n) lies inside it and that the memory is still open. n must be a
// positive constant. Once size ≥ n is known, one unsigned comparison covers a
// negative off (huge as unsigned) and an end past the capacity.
func (v view) at(off, n int64) unsafe.Pointer {
	if v.size < n || uint64(off) > uint64(v.size-n) || v.b.base == nil {
		panic(&AccessError{Op: "access", Offset: off, Length: n, Capacity: v.size})
	}
	return unsafe.Add(v.b.base, v.off+off)
}

// check is at for operations whose length may be zero; it returns nil for an
// empty range inside the view.
func (v view) check(op string, off, n int64) unsafe.Pointer {
	if n == 0 && off >= 0 && off <= v.size {
		return nil
	}
	if n < 0 || off|(off+n)|(v.size-off-n) < 0 || v.b.base == nil {
		panic(&AccessError{Op: op, Offset: off, Length: n, Capacity: v.size})
	}
	return unsafe.Add(v.b.base, v.off+off)
}

// Size returns the capacity of the view in bytes.
func (v view) Size() int64 { return v.size }

// Order returns the byte order of the view's multi-byte values.
func (v view) Order() Order {
	if v.swap {
		return 1 - nativeOrder
	}
	return nativeOrder
}

// IsValid reports whether the memory is still open. The zero view is valid.
func (v view) IsValid() bool { return v.b == nil || !v.b.closed.Load() }

// IsWritable reports whether the underlying memory accepts writes: false for
// views of read-only file mappings, whatever the view's type.
func (v view) IsWritable() bool { return v.b != nil && v.b.writable }

// Offset returns the offset of the view's first byte from the start of the
// memory it was carved from (a Wrap'd slice, an allocation or a mapping).
func (v view) Offset() int64 { return v.off }

// SameBacking reports whether the view and m are windows of the same
// allocation, Wrap'd slice or mapping.
func (v view) SameBacking(m Memory) bool { return v.b != nil && v.b == m.b }

// Bytes returns the n bytes at off as a slice that shares the memory, without
// copying. The slice stays valid until the memory's owner closes it; using it
// after that is undefined, unlike an access through the view. On a Memory the
// caller must not write to the slice (for a read-only file mapping the write
// would fault).
func (v view) Bytes(off, n int64) []byte {
	p := v.check("bytes", off, n)
	if p == nil {
		return []byte{}
	}
	return unsafe.Slice((*byte)(p), n)
}

// String describes the view, for debugging.
func (v view) String() string {
	state := "open"
	if !v.IsValid() {
		state = "closed"
	}
	return fmt.Sprintf("memory(%d bytes at offset %d, %s, %s)", v.size, v.off, v.Order(), state)
}

func (v view) region(off, size int64) view {
	v.check("region", off, size)
	v.off += off
	v.size = size
	return v
}

func (v view) withOrder(o Order) view {
	v.swap = o != nativeOrder
	return v
}

// Region returns a read-only view of the size bytes at off, with its own
// offset 0 and capacity size, in the same byte order. Regions nest freely and
// share the memory's lifetime.
func (m Memory) Region(off, size int64) Memory { return Memory{m.region(off, size)} }

// WithOrder returns a view of the same bytes that reads values in order o.
func (m Memory) WithOrder(o Order) Memory { return Memory{m.withOrder(o)} }

// Region returns a writable view of the size bytes at off; see Memory.Region.
func (w WritableMemory) Region(off, size int64) WritableMemory {
	return WritableMemory{view: w.region(off, size)}
}

// WithOrder returns a view of the same bytes that reads and writes values in
// order o.
func (w WritableMemory) WithOrder(o Order) WritableMemory {
	return WritableMemory{view: w.withOrder(o)}
}

// ReadOnly returns a read-only view of the same bytes.
func (w WritableMemory) ReadOnly() Memory { return Memory{w.view} }

// Server returns the RequestServer that handed this memory out, or nil.
func (v view) Server() RequestServer {
	if v.b == nil {
		return nil
	}
	return v.b.server
}
