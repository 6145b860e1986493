package vfs

import "io"

// File is an open file. Its methods are safe for concurrent use, as those of
// *os.File are: reads and writes are positional.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Closer

	// Sync makes the file's data and its size durable (fdatasync on Linux).
	Sync() error

	// Truncate changes the file's size.
	Truncate(size int64) error

	// Size returns the file's current size.
	Size() (int64, error)
}

// FS is a file system. Implementations are safe for concurrent use.
type FS interface {
	// Create creates name, or truncates it if it exists, open for reading
	// and writing.
	Create(name string) (File, error)

	// Open opens an existing file for reading.
	Open(name string) (File, error)

	// OpenReadWrite opens an existing file for reading and writing.
	OpenReadWrite(name string) (File, error)

	// Rename renames oldname to newname, replacing newname if it exists.
	Rename(oldname, newname string) error

	// Remove removes a file or an empty directory.
	Remove(name string) error

	// ReadDir returns the names of the entries of dir, sorted.
	ReadDir(dir string) ([]string, error)

	// MkdirAll creates dir and any missing parents.
	MkdirAll(dir string) error

	// SyncDir makes dir's entries (files created, renamed, removed) durable.
	SyncDir(dir string) error

	// Lock takes an exclusive lock on the file name (creating it), held
	// until the returned Closer is closed or the process exits. It fails at
	// once if another process holds it.
	Lock(name string) (io.Closer, error)
}
