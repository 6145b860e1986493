package tiermem

import (
	"errors"
	"fmt"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/disk"
	"github.com/tiermem/tiermem/tier/object"
)

var (
	// ErrNotFound is returned for a key that no tier holds (or whose TTL expired).
	ErrNotFound = errors.New("tiermem: key not found")

	// ErrTooLarge is returned for a value larger than the whole budget of the
	// tier it must go to (or of every tier, when the Manager chooses).
	ErrTooLarge = errors.New("tiermem: value too large")

	// ErrNoSpace is returned when no room can be made: the tier and those
	// below it are full of entries that cannot move (pinned, or the last tier
	// is full), or the disk is full. Nothing stored before is lost.
	ErrNoSpace = errors.New("tiermem: no space left")

	// ErrCorrupt is returned when a value read back fails its checksum or
	// cannot be decoded: the bytes are never returned altered.
	ErrCorrupt = errors.New("tiermem: corrupt value")

	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("tiermem: manager closed")

	// ErrInvalidKey is returned for an empty key or one longer than 65535 bytes.
	ErrInvalidKey = errors.New("tiermem: invalid key")

	// ErrUnknownTier is returned for a tier name ParseTier does not know, or
	// a tier this Manager does not have (glacier, when disabled).
	ErrUnknownTier = errors.New("tiermem: unknown tier")

	// ErrType is returned by RetrieveArray, ViewArray and Get for a value
	// stored as another kind (bytes, an array, a Go value) or with another
	// element type or codec, for an Array whose shape does not match its
	// data, and by Put for a Go value its codec cannot encode.
	ErrType = errors.New("tiermem: value of another type")

	// ErrUnavailable is returned when the glacier tier's object store cannot
	// be reached (after its retries), or its bucket is gone: the operation
	// did not happen, and a value it was to demote stays where it was.
	ErrUnavailable = errors.New("tiermem: glacier store unavailable")

	// ErrInUse is returned by Open for a directory another Manager, in this
	// process or another, has open.
	ErrInUse = errors.New("tiermem: directory in use")

	// ErrOptions is returned by Open for options that cannot work (a negative
	// size, watermarks out of order, a policy a tier cannot use), and by Store
	// for a StoreOption that cannot (a TTL that is not positive).
	ErrOptions = errors.New("tiermem: invalid options")

	// ErrSnapshotCorrupt is returned by Restore, OpenSnapshot and
	// SnapshotFile.Verify for a snapshot file that is truncated, fails a
	// checksum, or is not a snapshot: Restore then changes nothing. It is
	// an ErrCorrupt too: errors.Is(err, ErrCorrupt) holds.
	ErrSnapshotCorrupt error = &corruptKind{"tiermem: corrupt snapshot"}

	// ErrRestoreIncomplete is returned by Open for a directory a Restore
	// began changing and did not finish (a crash, a kill, an error half
	// way): it holds part of a snapshot where other keys were. Restore
	// again (Options.OpenIncompleteRestore opens it for that), or remove
	// the marker file the error names to use what is there.
	ErrRestoreIncomplete = errors.New("tiermem: a snapshot restore into the directory did not finish")

	// ErrSnapshotVersion is returned by Restore and OpenSnapshot for a
	// snapshot file written in a format newer than this reader's.
	ErrSnapshotVersion = errors.New("tiermem: unsupported snapshot version")

	// ErrSnapshotRunning is returned by Snapshot while another Snapshot of
	// the same Manager runs: Snapshots do not queue, since one called from
	// the running Snapshot's Progress would wait for ever for it.
	ErrSnapshotRunning = errors.New("tiermem: a snapshot is already running")

	// ErrExists is returned by Rename and CopyKey, without replace, for a
	// destination key that holds a value.
	ErrExists = errors.New("tiermem: key exists")

	// ErrNoIdleTime is returned by IdleTime for a key in a tier whose policy
	// keeps no time of each key's last use (CLOCK's reference bits, the cold
	// tier's write age) or that keeps the key out of it (pinned).
	ErrNoIdleTime = errors.New("tiermem: no idle time kept")
)

// storeError maps a tier's error to the Manager's sentinel, keeping both.
func storeError(err error) error {
	for _, pair := range []struct{ from, to error }{
		{tier.ErrNoSpace, ErrNoSpace}, {tier.ErrCorrupt, ErrCorrupt}, {tier.ErrNotFound, ErrNotFound},
		{tier.ErrTooLarge, ErrTooLarge}, {tier.ErrClosed, ErrClosed}, {tier.ErrInvalidKey, ErrInvalidKey},
		{disk.ErrLocked, ErrInUse}, {object.ErrUnavailable, ErrUnavailable}, {object.ErrNoBucket, ErrUnavailable},
	} {
		if errors.Is(err, pair.from) && !errors.Is(err, pair.to) {
			return fmt.Errorf("%w: %w", pair.to, err)
		}
	}
	return err
}

// corruptKind is a sentinel error that is a kind of ErrCorrupt.
type corruptKind struct{ msg string }

func (e *corruptKind) Error() string { return e.msg }

// Unwrap returns ErrCorrupt.
func (e *corruptKind) Unwrap() error { return ErrCorrupt }
