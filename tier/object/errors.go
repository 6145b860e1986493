package object

import (
	"errors"
	"fmt"

	"github.com/tiermem/tiermem/tier"
)

var (
	// ErrNotExist is returned by a Bucket's Get, wrapped with the bucket
	// and the object's name, for an object the bucket does not hold. The
	// retrying layer never retries it.
	ErrNotExist = errors.New("object: no such object")

	// ErrShortObject is returned, wrapped, by a read of a range that runs
	// past an object's end (HTTP 416, or a short body): the object is not
	// what its index says. The retrying layer never retries it.
	ErrShortObject = errors.New("object: the object is shorter than the range read")

	// ErrNoBucket is returned by a Bucket for a bucket (or directory) that
	// does not exist, or no longer does. It is not retried: a bucket
	// deleted under the store stays deleted.
	ErrNoBucket = errors.New("object: no such bucket")

	// ErrInvalidOptions is returned by Open, wrapped with the field at
	// fault, for Options that cannot describe a store.
	ErrInvalidOptions = errors.New("object: invalid options")

	// ErrInvalidURL is returned by ParseURL, wrapped with the reason, for a
	// URL that names no store.
	ErrInvalidURL = errors.New("object: invalid store URL")

	// ErrExists is returned, wrapped, by an ObjectCreator's CreateObject
	// of a name an object holds already, and by a Store whose pack or
	// index name another writer took: two Stores share a bucket and
	// prefix, which a Store does not support (each needs a prefix of its
	// own). It is not retried.
	ErrExists = errors.New("object: an object of that name exists")

	// ErrUnavailable is returned, wrapping the last error, by a request
	// that still failed after every retry the Options allow: the store is
	// unreachable, slow past the deadline, or failing. Nothing is lost: a
	// Put not yet made durable stays in memory and the next Sync retries it.
	ErrUnavailable = errors.New("object: store unavailable")
)

// CorruptError is returned for stored bytes that do not verify: a frame
// whose checksum, key or length disagrees, a pack whose index is missing
// and whose frames do not parse, an index that names a pack the bucket does
// not hold. It wraps tier.ErrCorrupt, so errors.Is(err, tier.ErrCorrupt)
// holds; errors.As finds the place. The store never returns the bytes.
type CorruptError struct {
	Bucket string // the bucket, as its String method names it
	Object string // the damaged object's name in the bucket
	Off    int64  // byte offset of the damaged frame or field in Object
	Reason string // what does not verify
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("object: %s/%s at byte %d: %s: %v", e.Bucket, e.Object, e.Off, e.Reason, tier.ErrCorrupt)
}

// damagedPack is the error of a read of pack seq that the bucket does not
// hold, though the index names it (deleted behind the store's back), or
// holds shorter than the index says (cut): the store is damaged, not
// unreachable. Other errors are returned as they are.
func (s *Store) damagedPack(seq uint64, err error) error {
	switch {
	case errors.Is(err, ErrNotExist):
		return &CorruptError{Bucket: s.String(), Object: packName(seq), Reason: fmt.Sprintf("the pack is gone from the bucket (%v)", err)}
	case errors.Is(err, ErrShortObject):
		return &CorruptError{Bucket: s.String(), Object: packName(seq), Reason: fmt.Sprintf("the pack is shorter than its index says (%v)", err)}
	}
	return err
}

// Unwrap returns tier.ErrCorrupt.
func (e *CorruptError) Unwrap() error { return tier.ErrCorrupt }

// formatError is what the pack, frame and index decoders return: a damaged
// encoding at an offset of the bytes they were given. The store turns it
// into a *CorruptError that names the object.
type formatError struct {
	off    int64
	reason string
}

func (e *formatError) Error() string {
	return fmt.Sprintf("at byte %d: %s: %v", e.off, e.reason, tier.ErrCorrupt)
}

func (e *formatError) Unwrap() error { return tier.ErrCorrupt }

func badFormat(off int64, format string, args ...any) error {
	return &formatError{off: off, reason: fmt.Sprintf(format, args...)}
}

// corruptIn turns a decoder's error about object name into a
// *CorruptError, with the object's offset base added; other errors pass.
func corruptIn(b Bucket, name string, base int64, err error) error {
	var fe *formatError
	if errors.As(err, &fe) {
		return &CorruptError{Bucket: b.String(), Object: name, Off: base + fe.off, Reason: fe.reason}
	}
	return err
}
