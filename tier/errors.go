package tier

import "errors"

var (
	// ErrNotFound is returned for a key the store does not hold.
	ErrNotFound = errors.New("tier: key not found")

	// ErrCorrupt is returned when stored bytes fail their checksum or cannot
	// be decoded: the value is never returned altered.
	ErrCorrupt = errors.New("tier: corrupt value")

	// ErrNoSpace is returned when the store's medium is full (a full disk, no
	// more off-heap memory); what was stored before is intact.
	ErrNoSpace = errors.New("tier: no space left")

	// ErrTooLarge is returned for a value the store can never hold.
	ErrTooLarge = errors.New("tier: value too large")

	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("tier: store closed")

	// ErrSyncFailed is returned by every Sync of a Persistent store after a
	// sync failed with an I/O error (not a full disk): the system may have
	// dropped what it failed to write, so no later sync can prove the
	// writes before it durable, and no retry can succeed. Reopening the
	// store recovers what reached the disk.
	ErrSyncFailed = errors.New("tier: an earlier sync failed; writes before it may be lost")

	// ErrInvalidKey is returned for an empty key or one longer than a store allows.
	ErrInvalidKey = errors.New("tier: invalid key")
)
