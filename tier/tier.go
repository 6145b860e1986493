package tier

import (
	"fmt"
	"strings"
	"time"
)

// Level names a tier, fastest first.
type Level uint8

const (
	Hot     Level = iota // GPU memory, or live Go memory
	Warm                 // RAM outside the Go heap
	Cold                 // local disk
	Glacier              // object storage
)

var levelNames = [...]string{"hot", "warm", "cold", "glacier"}

// String returns "hot", "warm", "cold" or "glacier".
func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("tier(%d)", uint8(l))
}

// ParseLevel returns the level named s (case-insensitive), or an error
// listing the names it accepts.
func ParseLevel(s string) (Level, error) {
	for i, name := range levelNames {
		if strings.EqualFold(s, name) {
			return Level(i), nil
		}
	}
	return 0, fmt.Errorf("tier: unknown tier %q (want hot, warm, cold or glacier)", s)
}

// Store is the storage of one tier: everything the Manager needs of every
// backend. Implementations are safe for concurrent use. Close is a gate:
// it waits for the calls in flight (a ViewMeta callback included), and
// every call that begins after it returns an error wrapping ErrClosed.
type Store interface {
	// Put stores a copy of value under key with meta (opaque bytes the
	// caller gets back with the value), replacing any earlier value, and
	// returns the bytes the entry now occupies in the tier (after
	// compression, with per-entry overhead): what counts against the tier's
	// budget, at most Cost of its sizes. The caller may reuse value and meta
	// once Put returns.
	Put(key string, value, meta []byte) (int64, error)

	// ViewMeta calls fn with key's value and meta, without a copy where the
	// store can; both are valid only until fn returns and must not be
	// modified, and fn must not call the store. It returns fn's error, or
	// ErrNotFound. Stores whose data has left memory verify a checksum and
	// return ErrCorrupt rather than altered bytes.
	ViewMeta(key string, fn func(value, meta []byte) error) error

	// Meta returns a copy of key's meta (nil if it has none), or
	// ErrNotFound, without reading the value.
	Meta(key string) ([]byte, error)

	// Delete removes key and returns the bytes it occupied; ErrNotFound if
	// absent.
	Delete(key string) (int64, error)

	// Scan calls fn for every key the store holds, with its meta and the
	// bytes it occupies (as Put reported them), in no particular order; it
	// stops at fn's first error and returns it. The meta slice is valid only
	// during fn, and fn must not call the store. The Manager lists a tier
	// with it (Clear, Close) and rebuilds its catalog from a persistent one.
	Scan(fn func(key string, meta []byte, size int64) error) error

	// Used returns the bytes all entries occupy, as Put and Delete report
	// them: the Manager's budgets are built on it (a Put that replaces an
	// entry frees the old one inside the store, which only the store can
	// count). Used, Len and Cost may be called after Close, and return
	// what they returned last or zero.
	Used() int64

	// Len returns the number of keys. A Put of a new key and a Delete are
	// counted by the time they return. While they run, and while a store's
	// own work (a compaction moving a record) runs, Len may lag what the
	// store holds, so the Manager never takes a Len of 0 as proof that a
	// key is absent.
	Len() int64

	// Cost returns the most bytes Put would report for an entry with a key
	// of keyLen bytes, a value of valueLen bytes and meta of metaLen bytes:
	// the Manager reserves that much of the budget while the Put runs, and
	// a value whose cost exceeds the whole budget is too large for the tier
	// (even one that would compress to fit: Cost cannot know).
	Cost(keyLen, valueLen, metaLen int) int64

	// Close releases the store. A persistent store keeps its data for the
	// next open; a memory store drops it (the Manager demotes first). A
	// second Close returns ErrClosed.
	Close() error
}

// ValueScanner is a memory Store that hands every entry's value to a scan,
// so that the Manager writes what memory holds to disk at Close without
// listing the keys first and looking each one up again.
type ValueScanner interface {
	// ScanValues calls fn for every key the store holds, with its value and
	// meta, in no particular order; it stops at fn's first error and
	// returns it. key, value and meta are valid only during fn and must not
	// be modified. fn must not call the store; it may call other stores.
	// Two scans of a store that nothing changed in between hand out the
	// keys in the same order (a failed Close finds what it wrote so).
	// bad is nil, or, for an entry whose value fails its check (a
	// compressed value that does not decode), an error wrapping ErrCorrupt
	// and naming the key: value is then nil, and the scan goes on with the
	// next entry unless fn returns an error.
	ScanValues(fn func(key string, value, meta []byte, bad error) error) error
}

// Replacer is a Store whose put says whether it replaced a value, in the
// lookup it makes anyway.
type Replacer interface {
	// PutReplacing is Put, and reports whether key held a value before.
	PutReplacing(key string, value, meta []byte) (charged int64, replaced bool, err error)
}

// MetaSetter is a Store that changes an entry's meta without being handed
// its value again: a TTL or pin change costs no copy of a large value
// through the caller, and none at all where the new meta fits where the
// old one lay.
type MetaSetter interface {
	// SetMeta replaces key's meta with a copy of meta, keeping its value
	// as it is stored (a compressed value is not decoded), and returns the
	// bytes the entry now occupies. It is atomic with the store's other
	// calls: a Put or Delete of key racing it is never lost. Errors:
	// ErrNotFound; an error wrapping ErrNoSpace, with nothing changed, when
	// the entry would occupy more than grow bytes more than it did (the
	// caller reserves that much of its budget first).
	SetMeta(key string, meta []byte, grow int64) (int64, error)
}

// Reserver is a Store that can make room for many keys about to be put.
type Reserver interface {
	// Reserve makes room for about n more keys.
	Reserve(n int)
}

// Holder is a memory Store whose readers may keep a value in memory after
// it leaves the store (a Lender's values, the warm store's LargeValues).
type Holder interface {
	// Held returns the bytes of values replaced or deleted that readers
	// may still hold: memory the process uses beyond Used, which no budget
	// counts, given back as the readers let go.
	Held() int64
}

// ValueLener is a Store that tells a value's length without reading it
// (tier/disk, from its index, for a value it may have compressed).
type ValueLener interface {
	// ValueLen returns the length of key's value, or ErrNotFound.
	ValueLen(key string) (int64, error)
}

// Persistent is a Store whose data survives Close and a crash.
type Persistent interface {
	Store

	// Sync makes every Put and Delete that returned before it durable. A
	// Sync that fails for lack of space leaves the store usable, holding
	// what it had, and may be retried once space returns. After an I/O
	// error a clean retry would prove nothing (the system may have dropped
	// the pages it failed to write), so a store must go on failing every
	// Sync with an error wrapping ErrSyncFailed.
	Sync() error
}

// MetaGetter is a Store that reads a value straight into the caller's
// buffer, with its meta, in one lookup: cheaper than a ViewMeta that
// copies, for a store whose reads copy anyway (the cold tier).
type MetaGetter interface {
	// GetMeta appends key's value to dst and returns the result and a copy
	// of key's meta, or dst and an error.
	GetMeta(key string, dst []byte) (value, meta []byte, err error)
}

// Lender is a memory Store whose ViewMeta hands out, for some entries,
// memory that may be kept past the callback (tier/heap, whose memory the
// garbage collector keeps alive): a value read without a copy however
// large it is.
type Lender interface {
	// Lends reports whether a value of valueLen bytes that ViewMeta hands
	// out stays valid and unchanged for as long as the caller keeps a
	// reference to it, after the callback returns, and whatever happens to
	// the entry or the store meanwhile (a replacement, a Delete, a Close).
	// The caller must not modify it.
	Lends(valueLen int) bool
}

// Sizer is a Store that reports what one entry occupies, so that a Store
// replacing it reserves only the difference: without it, a tier full of
// pinned values could not take a new value for one of its keys.
type Sizer interface {
	// Size returns the bytes key's entry occupies, as Put reported them, or
	// ErrNotFound.
	Size(key string) (int64, error)
}

// Trimmer is a Store that keeps memory for reuse after entries leave, and
// gives it back when asked. The Manager calls Trim every migration pass.
type Trimmer interface {
	// Trim returns to the system what was kept since before cutoff.
	Trim(cutoff time.Time)
}

// Skip reports whether an entry must not be chosen as a victim, from its
// key and meta (the Manager skips pinned entries).
type Skip func(key string, meta []byte) bool

// VictimChooser is a Store that chooses its own victims and finds its idle
// entries from state it keeps per entry anyway (CLOCK reference bits in the
// warm store's index), so that the Manager keeps no memory per key for it.
type VictimChooser interface {
	// Victim returns the key the store would evict next, skipping those
	// skip exempts; false when every entry is exempt or the store is empty.
	// It does not remove the key.
	Victim(skip Skip) (string, bool)

	// Idle calls fn for every entry not read since the previous call to
	// Idle, until fn returns false. fn must not call the store.
	Idle(fn func(key string, meta []byte) bool)
}

// Stored is a value as a store keeps it: the bytes as stored, one zstd
// frame when Zstd is set and the value itself otherwise, with the value's
// length and its meta. Passing it between two stores that both keep zstd
// frames moves a compressed value without decompressing and compressing
// it again.
type Stored struct {
	Value  []byte // the stored bytes
	Zstd   bool   // Value is one zstd frame of the value
	RawLen int64  // the value's length
	Meta   []byte
}

// StoredViewer is a Store that hands out values as it stores them
// (tier/disk).
type StoredViewer interface {
	// ViewStored calls fn with key's value as stored, after verifying the
	// stored bytes against their checksum (ErrCorrupt if they do not
	// match), and returns fn's error; ErrNotFound if absent. The slices
	// are valid only during fn.
	ViewStored(key string, fn func(v Stored) error) error
}

// StoredPutter is a Store that takes values as another store kept them
// (tier/object).
type StoredPutter interface {
	// PutStored stores v under key as Put would store its value, keeping a
	// zstd frame as it is, and returns the bytes the entry occupies. The
	// caller may reuse v's slices once it returns.
	PutStored(key string, v Stored) (int64, error)
}

// Preparer is a memory Store into whose own memory a value can be read
// before it is stored (tier/heap, tier/offheap), so that a value from a
// stream is held once, not read into a buffer and then copied. The memory
// stays valid for the Pending's writes whatever the store does meanwhile,
// a Close included, until Commit succeeds or Discard.
type Preparer interface {
	// Prepare returns the memory for a value of size bytes under key, with
	// room for metaLen bytes of meta; nothing is stored until its Commit.
	// It fails with ErrInvalidKey and ErrTooLarge as Put would.
	Prepare(key string, size, metaLen int) (Pending, error)
}

// Pending is a value being written into the memory a Preparer gave it.
// It is not safe for concurrent use.
type Pending interface {
	// Value returns the value's bytes, to fill: valid until Commit
	// succeeds or Discard, after which the caller must not write them.
	Value() []byte
	// Commit stores the value with meta (at most the metaLen prepared;
	// exactly that many where the store's layout puts meta before the
	// value, tier/offheap's large values) as Put would store it, without
	// copying it, and returns the bytes the entry occupies. The value's
	// bytes stay where Value showed them. After a failed Commit the
	// Pending can be committed again or discarded.
	Commit(meta []byte) (int64, error)
	// Discard gives the memory back; after Commit it does nothing.
	Discard()
}

// LookupPreparer is a memory Store that can start loading the entries of
// keys about to be looked up into the CPU's cache, all at once, so that a
// batch of lookups does not wait for memory one key after another.
type LookupPreparer interface {
	// PrepareLookups reads the index entries of keys, and the entries they
	// point to, without changing anything: a hint whose only effect is on
	// speed. It keeps no reference to keys.
	PrepareLookups(keys [][]byte)
}
