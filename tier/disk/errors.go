package disk

import "errors"

var (
	// ErrVersion is returned by Open, wrapped with the file's name, for a
	// segment or hint file written by a newer format than this package
	// reads. Nothing is changed on disk.
	ErrVersion = errors.New("disk: file written by a newer format")

	// ErrLocked is returned by Open when another Store, in this process or
	// another, has the directory open.
	ErrLocked = errors.New("disk: directory in use by another store")

	// ErrInvalidOptions is returned by Open, wrapped with the field at fault,
	// for Options that cannot describe a store.
	ErrInvalidOptions = errors.New("disk: invalid options")
)
