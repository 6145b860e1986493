package memory

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Handle owns memory outside the Go heap (an anonymous allocation or a file
// mapping) and is the only thing that can free it. Views of it come from
// Memory (and, for a WritableHandle, Writable); they stay usable until Close.
// A Handle is safe for concurrent use, Close included (Close waits for
// its methods), but Close must not run concurrently with accesses through
// its views.
type Handle struct {
	b       *block
	leak    *leakRecord
	cleanup runtime.Cleanup
}

// WritableHandle owns memory that can be written: an anonymous allocation or a
// writable file mapping. It has every method of Handle.
type WritableHandle struct{ Handle }

func newHandle(b *block, where string) Handle {
	return Handle{b: b, leak: newLeakRecord(b, where)}
}

// watch registers the leak report of h; it runs if h is garbage collected
// without Close.
func (h *Handle) watch() { h.cleanup = runtime.AddCleanup(h, reportLeak, h.leak) }

// Memory returns a read-only little-endian view of the whole memory.
func (h *Handle) Memory() Memory { return Memory{newView(h.b)} }

// Size returns the size of the memory in bytes.
func (h *Handle) Size() int64 { return h.b.size }

// Close frees the memory (unmapping it) and invalidates every view of it.
// Close of an already closed handle returns ErrClosed.
func (h *Handle) Close() error {
	first, err := h.b.close()
	if !first {
		return ErrClosed
	}
	h.cleanup.Stop()
	h.leak.release()
	return err
}

// Load asks the kernel to bring all of the memory into RAM (madvise
// WILLNEED) and then touches every page, so that later reads do not fault.
// It works for mappings of any size, past 2 GiB included. A page that
// cannot be read (its file truncated by another process, a failing
// device) is ErrFault, not a crash.
func (h *Handle) Load() error {
	return h.b.withMapping(func(m []byte) error {
		if len(m) == 0 {
			return nil
		}
		if err := adviseWillNeed(m); err != nil {
			return err
		}
		return touchPages(m)
	})
}

// touchPages reads one byte of every page of m, turning a fault into
// ErrFault.
func touchPages(m []byte) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrFault, r)
		}
	}()
	var sink byte
	for off := 0; off < len(m); off += int(pageSize) {
		sink ^= m[off]
	}
	runtime.KeepAlive(sink)
	return nil
}

// IsLoaded reports whether every page of the memory is resident in RAM.
func (h *Handle) IsLoaded() (loaded bool, err error) {
	err = h.b.withMapping(func(m []byte) (err error) {
		loaded, err = resident(m)
		return err
	})
	return loaded, err
}

// Writable returns a writable little-endian view of the whole memory.
func (h *WritableHandle) Writable() WritableMemory { return WritableMemory{view: newView(h.b)} }

// Force writes the changed pages of a file mapping back to the file and waits
// until they are on the device (msync). For anonymous memory there is nothing
// to write and Force returns nil.
func (h *WritableHandle) Force() error {
	return h.b.withMapping(func(m []byte) error {
		if h.b.kind != fileBlock || len(m) == 0 {
			return nil // nothing mapped from a file: nothing to write
		}
		return syncMapping(m)
	})
}

// Discard tells the system that the n bytes at off are no longer needed: for
// anonymous memory their RAM is returned at once and they read as zero
// afterwards; for a file mapping the pages are dropped from this process and
// read again from the file. Only whole pages inside the range are discarded.
// Views stay valid.
func (h *WritableHandle) Discard(off, n int64) error { return h.discard(off, n) }

// Release drops the pages of a file mapping in the n bytes at off from this
// process: the bytes stay in the file (and the page cache) and are read
// again when next touched, and views stay valid. A reader that passes over
// a large file once calls it behind itself to keep its resident memory
// bounded. Only whole pages inside the range are released. On anonymous
// memory, whose bytes it would lose, it returns ErrNotFile.
func (h *Handle) Release(off, n int64) error {
	if h.b.kind != fileBlock {
		return ErrNotFile
	}
	return h.discard(off, n)
}

// discard drops the whole pages of the n bytes at off (madvise DONTNEED).
func (h *Handle) discard(off, n int64) error {
	return h.withPages("discarding", off, n, true, func(pages []byte) error { return discard(pages, h.b.kind) })
}

// withPages runs fn on the part of the mapping that holds the n bytes at
// off, in whole pages: the pages inside the range when inner is set, else
// every page it touches; fn is not called when there is none. Close waits
// for fn. doing names the caller in its error: ErrClosed, or
// ErrInvalidSize for a range outside the memory.
func (h *Handle) withPages(doing string, off, n int64, inner bool, fn func(pages []byte) error) error {
	return h.b.withMapping(func(m []byte) error {
		if off < 0 || n < 0 || off > h.b.size-n {
			return fmt.Errorf("%w: %s %d bytes at offset %d of %d", ErrInvalidSize, doing, n, off, h.b.size)
		}
		start := h.b.mappingOffset() + off
		first, last := start&^(pageSize-1), min((start+n+pageSize-1)&^(pageSize-1), int64(len(m)))
		if inner {
			first, last = (start+pageSize-1)&^(pageSize-1), (start+n)&^(pageSize-1)
		}
		if n == 0 || last <= first {
			return nil
		}
		return fn(m[first:last])
	})
}

// Populate faults in the whole pages of the n bytes at off, writable, in
// one system call, for a caller about to write them: where the system
// takes a fault a page otherwise (a trap, then zeroed memory), it does the
// work of many at once (MADV_POPULATE_WRITE, Linux 5.14 and later; in a
// virtual machine a fault costs several microseconds). The pages are
// charged to the process as if written. It is advice: where the system
// has no such call, it does nothing and returns nil. Errors: ErrClosed,
// ErrInvalidSize for a range outside the memory, ErrFault for pages of a
// file mapping past the file's end (the file was cut since it was mapped).
func (h *WritableHandle) Populate(off, n int64) error {
	return h.withPages("populating", off, n, false, populate)
}

// HugePages asks the system to back the memory with huge pages (2 MiB on
// x86-64) where it can (madvise HUGEPAGE): far fewer page faults and TLB
// misses when gigabytes are written. It is advice: where the system has
// transparent huge pages off, nothing changes and HugePages returns nil; it
// returns an error only where the request itself is refused. On macOS and
// FreeBSD it does nothing and returns nil (FreeBSD uses superpages for large
// anonymous memory unasked; macOS has no such advice).
func (h *WritableHandle) HugePages() error { return h.b.withMapping(adviseHuge) }

// Allocate returns size bytes of zeroed memory outside the Go heap
// (anonymous mmap): the garbage collector never scans it, and pages use RAM
// only once they are touched. Sizes far beyond 2 GiB are fine. The caller owns
// the memory and must Close the handle.
func Allocate(size int64) (*WritableHandle, error) { return allocate(size, false, callerOf()) }

// Reserve is Allocate for address space far larger than what will be used:
// the system commits no RAM or swap for it up front (MAP_NORESERVE on Linux;
// macOS, and FreeBSD unless vm.overcommit says otherwise, never commit
// anonymous memory up front), so a reservation larger than the machine's
// memory succeeds, and pages take RAM as they are touched. Touching more than the system can give gets the
// process killed rather than an error: reserve what you budget, use what
// you must. The caller owns the memory and must Close the handle.
func Reserve(size int64) (*WritableHandle, error) { return allocate(size, true, callerOf()) }

func allocate(size int64, reserve bool, where string) (*WritableHandle, error) {
	if size <= 0 {
		return nil, fmt.Errorf("%w: allocating %d bytes", ErrInvalidSize, size)
	}
	b, err := newOffHeapBlock(size, reserve)
	if err != nil {
		return nil, err
	}
	h := &WritableHandle{newHandle(b, where)}
	h.watch()
	return h, nil
}

// newOffHeapBlock maps size bytes of anonymous memory into a block.
func newOffHeapBlock(size int64, reserve bool) (*block, error) {
	m, err := mapAnon(size, reserve)
	if err != nil {
		return nil, err
	}
	b := &block{size: size, kind: offHeapBlock, mapping: m, writable: true}
	b.base = pointerTo(m)
	accountMap(b, 1)
	return b, nil
}

func (b *block) isOpen() bool { return !b.closed.Load() }
