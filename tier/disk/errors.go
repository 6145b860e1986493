package disk

import (
	"errors"
	"fmt"

	"github.com/tiermem/tiermem/tier"
)

var (
	// ErrVersion is returned by Open, wrapped with the file's name, for a
	// segment or hint file written by a newer format than this package
	// reads. Nothing is changed on disk.
	ErrVersion = errors.New("disk: file written by a newer format")

	// ErrLocked is returned by Open and Repair when another Store, in this
	// process or another, has the directory open.
	ErrLocked = errors.New("disk: directory in use by another store")

	// ErrSyncFailed is returned, wrapping the first error, by every sync of
	// a segment whose fsync once failed with an I/O error (not a full
	// disk): the system may have dropped the pages it failed to write and
	// report the next fsync clean, so no later sync can prove the records
	// before it durable. Reopen the store: recovery keeps what reached the
	// disk and fails closed on what did not.
	// It wraps tier.ErrSyncFailed.
	ErrSyncFailed = fmt.Errorf("disk: an earlier fsync failed, records written before it may be lost: %w", tier.ErrSyncFailed)

	// ErrNoSegmentID is returned, wrapped with the file's name, when the
	// store would create a segment file whose name is taken (a file put in
	// the directory behind the store's back) or has used every segment id
	// (2^63): nothing is overwritten, and the write that needed the new
	// segment fails.
	ErrNoSegmentID = errors.New("disk: no free segment id")

	// ErrInvalidOptions is returned by Open, wrapped with the field at fault,
	// for Options that cannot describe a store.
	ErrInvalidOptions = errors.New("disk: invalid options")
)

// CorruptError is what Open returns, and Compact, for damaged bytes that
// could hide a newer record: a record or segment header that does not
// verify anywhere but in a torn tail (see recovery.go). It wraps
// tier.ErrCorrupt, so errors.Is(err, tier.ErrCorrupt) holds; errors.As
// finds the place. Nothing on disk was changed; [Repair] salvages the rest.
type CorruptError struct {
	Dir    string // the store's directory
	File   string // the damaged file, a name in Dir
	Off    int64  // byte offset of the first damaged byte in File
	Reason string // what does not verify
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("disk: %s at byte %d: %s: %v (run \"tiermem repair %s\", or disk.Repair, to salvage what is intact)",
		e.File, e.Off, e.Reason, tier.ErrCorrupt, e.Dir)
}

// Unwrap returns tier.ErrCorrupt.
func (e *CorruptError) Unwrap() error { return tier.ErrCorrupt }
