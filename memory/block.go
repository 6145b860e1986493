package memory

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// blockKind says what backs a block and so how it is released.
type blockKind uint8

const (
	heapBlock    blockKind = iota // a Go []byte; released by dropping it
	offHeapBlock                  // anonymous mmap; released by munmap
	fileBlock                     // a mapped file; released by munmap
)

// emptyBase is the base of blocks of size zero, so that a nil base always
// means "closed".
var emptyBase byte

// block is the memory that all views of one allocation share. Its base is the
// validity flag: nil once the owner has closed it.
type block struct {
	base unsafe.Pointer // first byte of the usable memory; nil once closed
	size int64          // usable bytes from base
	kind blockKind

	mapping  []byte        // the whole mmap (page-aligned) for offHeapBlock and fileBlock
	heap     []byte        // keeps a heapBlock's backing array reachable
	server   RequestServer // the server that handed this block out, if any
	writable bool          // false for read-only file mappings
	closed   atomic.Bool   // set once by close
	// mu is held for reading by a Handle's methods while they use mapping
	// (withMapping), for writing by close while it unmaps it.
	mu sync.RWMutex
}

// newHeapBlock makes a block over b without copying it.
func newHeapBlock(b []byte) *block {
	blk := &block{size: int64(len(b)), kind: heapBlock, heap: b, writable: true}
	blk.base = unsafe.Pointer(unsafe.SliceData(b))
	if len(b) == 0 {
		blk.base = unsafe.Pointer(&emptyBase)
	}
	return blk
}

// close marks the block closed for every view and releases its memory. It
// reports false if the block was already closed.
func (b *block) close() (bool, error) {
	if !b.closed.CompareAndSwap(false, true) {
		return false, nil
	}
	b.mu.Lock() // a Handle method using the mapping finishes first
	defer b.mu.Unlock()
	b.base = nil
	b.heap = nil
	if b.mapping == nil {
		return true, nil
	}
	m := b.mapping
	b.mapping = nil
	accountMap(b, -1)
	return true, unmap(m, b.kind)
}

// withMapping runs fn on the block's mapping, which close does not unmap
// meanwhile; ErrClosed once the block is closed.
func (b *block) withMapping(fn func(mapping []byte) error) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if !b.isOpen() {
		return ErrClosed
	}
	return fn(b.mapping)
}

// mappingOffset returns where the block's first usable byte lies in its mapping.
func (b *block) mappingOffset() int64 {
	return int64(uintptr(b.base) - uintptr(pointerTo(b.mapping)))
}
