//go:build !unix

package vfs

// Map is not supported on this system: it returns [ErrNotMappable], and
// callers read with ReadAt.
func Map(f File, length int64) ([]byte, error) { return nil, ErrNotMappable }

// Unmap does nothing on this system.
func Unmap(b []byte) error { return nil }

// Release does nothing where nothing is mapped.
func Release(b []byte) error { return nil }
