package memory

import (
	"fmt"
	"math"
	"os"
	"unsafe"
)

// Map maps size bytes of the file at path, starting at byte off, read-only and
// shared: every process that maps the file shares the same pages of RAM.
// off need not be page-aligned. A size of 0 maps from off to the end of the
// file. The caller owns the mapping and must Close the handle; the file may be
// closed or removed (or replaced by a rename) meanwhile, but not truncated:
// an access through a view to a page past its new end is a SIGBUS, as with
// any mapping (Handle.Load returns ErrFault). A path that is not a regular
// file (a directory, a FIFO) is an error.
func Map(path string, off, size int64) (*Handle, error) {
	b, err := mapPath(path, off, size, false)
	if err != nil {
		return nil, err
	}
	h := &Handle{}
	*h = newHandle(b, callerOf())
	h.watch()
	return h, nil
}

// MapWritable maps size bytes of the file at path, starting at byte off, for
// reading and writing; writes reach the file (Force waits until they are on
// the device) and every process that maps it. The file is created if missing
// and extended with zeros if it ends before off+size, the disk space of the
// extension allocated on Linux (fallocate), so that a full file system is an
// error here rather than a SIGBUS at the first write. off need not be
// page-aligned. A size of 0 maps from off to the end of the file (a missing
// file is created empty). Where path is a symbolic link to a missing file,
// the link's target is created. A new file appears at path only once it is
// sized and mapped (it is made under a temporary name in the same directory
// and then hard-linked to path, so its file system must support hard links):
// a call that fails leaves no file it created, and concurrent calls on one
// missing path all map the same file.
func MapWritable(path string, off, size int64) (*WritableHandle, error) {
	b, err := mapPath(path, off, size, true)
	if err != nil {
		return nil, err
	}
	h := &WritableHandle{newHandle(b, callerOf())}
	h.watch()
	return h, nil
}

// mapPath opens path and maps [off, off+size) of it into a block.
func mapPath(path string, off, size int64, writable bool) (*block, error) {
	if off < 0 || size < 0 {
		return nil, fmt.Errorf("%w: mapping %s at offset %d, size %d", ErrInvalidSize, path, off, size)
	}
	if size > math.MaxInt64-off {
		return nil, fmt.Errorf("%w: mapping %s at offset %d, size %d: past the largest file", ErrInvalidSize, path, off, size)
	}
	if writable {
		return mapWritablePath(path, off, size)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openNonblock, 0) // a FIFO opens at once, and is refused later
	if err != nil {
		return nil, fmt.Errorf("memory: mapping file: %w", err)
	}
	defer f.Close()
	return fitAndMap(f, off, size, false)
}

// fitAndMap sizes the file for [off, off+size) and maps it.
func fitAndMap(f *os.File, off, size int64, writable bool) (*block, error) {
	size, err := fitFile(f, off, size, writable)
	if err != nil {
		return nil, err
	}
	return mapRange(f, off, size, writable)
}

// fitFile returns the size to map and, for a writable mapping, extends the
// file so that it holds off+size bytes.
func fitFile(f *os.File, off, size int64, writable bool) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("memory: mapping file: %w", err)
	}
	if st.IsDir() {
		return 0, fmt.Errorf("memory: mapping %s: it is a directory, not a file", f.Name())
	}
	if !st.Mode().IsRegular() {
		return 0, fmt.Errorf("memory: mapping %s: not a regular file (%v)", f.Name(), st.Mode().Type())
	}
	end := st.Size()
	switch {
	case size == 0 && off > end:
		return 0, fmt.Errorf("%w: offset %d is past the end of %s (%d bytes)", ErrInvalidSize, off, f.Name(), end)
	case size == 0:
		return end - off, nil
	case off+size <= end:
		return size, nil
	case !writable:
		return 0, fmt.Errorf("%w: %s has %d bytes, fewer than offset %d + size %d", ErrInvalidSize, f.Name(), end, off, size)
	}
	if err := extendFile(f, end, off+size); err != nil {
		return 0, fmt.Errorf("memory: extending %s to %d bytes: %w", f.Name(), off+size, err)
	}
	return size, nil
}

// mapRange maps [off, off+size) of f. mmap needs a page-aligned file offset, so
// the mapping starts at the page that holds off and the block's base skips the
// bytes before off.
func mapRange(f *os.File, off, size int64, writable bool) (*block, error) {
	b := &block{size: size, kind: fileBlock, writable: writable}
	if size == 0 {
		b.base = unsafe.Pointer(&emptyBase)
		return b, nil
	}
	aligned := off &^ (pageSize - 1)
	m, err := mapFile(f, aligned, size+off-aligned, writable)
	if err != nil {
		return nil, err
	}
	b.mapping = m
	b.base = unsafe.Add(pointerTo(m), off-aligned)
	accountMap(b, 1)
	return b, nil
}

// pointerTo returns the address of the first byte of a mapping.
func pointerTo(m []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(m)) }
