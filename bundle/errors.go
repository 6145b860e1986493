package bundle

import (
	"errors"
	"fmt"
)

// ErrNotFound is returned by Get, GetRecord and Layered.Get for a key that is
// not in the bundle (or, in a Layered store, was deleted).
var ErrNotFound = errors.New("bundle: key not found")

// ErrCorrupt is returned when a bundle file does not hold what its format
// promises: a bad magic, a checksum mismatch, an offset or length that points
// outside its section, entries out of order. It is wrapped with what and where,
// e.g. "bundle: corrupt: section index: checksum mismatch".
var ErrCorrupt = errors.New("bundle: corrupt")

// ErrVersion is returned by Open for a file written by a newer format that
// this reader cannot read (its minimum reader version is above ours).
var ErrVersion = errors.New("bundle: unsupported format version")

// ErrClosed is returned by reads of a Bundle or Layered store after Close, and
// by Builder methods after Finish or Abort.
var ErrClosed = errors.New("bundle: closed")

// ErrOptions is returned by NewBuilder and OpenLayered for invalid options: an
// unknown index kind, an alignment that is not a power of two up to 4096.
var ErrOptions = errors.New("bundle: invalid options")

// ErrIsDir is returned by NewBuilder (and Build, BuildRecords) for an output
// path that is an existing directory, before anything is read or written.
var ErrIsDir = errors.New("bundle: output path is a directory")

// ErrTooLarge is returned by Add for a key or meta area over 64 MiB (values
// have no limit but the file system's).
var ErrTooLarge = errors.New("bundle: key or meta too large")

// ErrInvalidSize is returned by AddStream for a negative size.
var ErrInvalidSize = errors.New("bundle: invalid value size")

// ErrShortValue is returned by AddStream when the reader ends before size bytes.
var ErrShortValue = errors.New("bundle: value shorter than its size")

// ErrNoKeys is returned by OpenLayered for an approximate bundle: it keeps no
// keys, so a delta cannot be merged into it.
var ErrNoKeys = errors.New("bundle: approximate bundles keep no keys")

// ErrConflict is returned by Layered.Merge when, while it merged, the bundle
// it folded its delta into was replaced at the store's path: by another
// store's Merge, in this process or another, or by a build. The delta is
// kept; the next Merge folds it into the newer bundle.
var ErrConflict = errors.New("bundle: the bundle was replaced during the merge")

// corrupt wraps ErrCorrupt with where the problem was found.
func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}
