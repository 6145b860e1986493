package tier

import (
	"fmt"
	"strings"
)

// Level names a tier, fastest first.
type Level uint8

const (
	Hot     Level = iota // GPU memory, or live Go memory
	Warm                 // RAM outside the Go heap
	Cold                 // local disk
	Glacier              // object storage
)

// Levels lists every level, fastest first.
var Levels = [...]Level{Hot, Warm, Cold, Glacier}

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

// Store is the storage of one tier. Implementations are safe for concurrent
// use; after Close every method returns ErrClosed.
type Store interface {
	// Put stores a copy of value under key with meta (opaque bytes the
	// caller gets back from Scan), replacing any earlier value, and returns
	// the bytes the entry now occupies in the tier (after compression, with
	// per-entry overhead): that is what counts against the tier's budget.
	// The caller may reuse value and meta once Put returns.
	Put(key string, value, meta []byte) (int64, error)

	// Get appends key's value to dst and returns the result. Stores whose
	// data has left memory verify a checksum and return ErrCorrupt rather
	// than altered bytes.
	Get(key string, dst []byte) ([]byte, error)

	// View calls fn with key's value, without a copy where the store can: the
	// slice is valid only until fn returns and must not be modified. View
	// returns fn's error.
	View(key string, fn func(value []byte) error) error

	// Delete removes key and returns the bytes it occupied; ErrNotFound if absent.
	Delete(key string) (int64, error)

	// Close releases the store. A persistent store keeps its data for the
	// next Open; a memory store drops it (the Manager demotes first).
	Close() error
}

// Persistent is a Store whose data survives Close and a crash.
type Persistent interface {
	Store

	// Scan calls fn for every key the store holds, with its meta and the
	// bytes it occupies, in no particular order; it stops at fn's first
	// error and returns it. It is how the Manager rebuilds its catalog at
	// Open. The meta slice is valid only during fn.
	Scan(fn func(key string, meta []byte, size int64) error) error

	// Sync makes every Put and Delete that returned before it durable.
	Sync() error
}

// MetaViewer is a Store that hands over a value together with its meta in
// one lookup, and its meta alone without reading the value. The Manager keeps
// its per-value header (kind, flags, expiry, checksum) in meta, so it uses
// these on every read.
type MetaViewer interface {
	// ViewMeta calls fn with key's value and meta; both are valid only until
	// fn returns and must not be modified. It returns fn's error.
	ViewMeta(key string, fn func(value, meta []byte) error) error

	// Meta returns a copy of key's meta (nil if it has none), or ErrNotFound.
	Meta(key string) ([]byte, error)
}

// Sized is a Store that reports what it holds, exactly: the Manager's budgets
// are built on it (a Put that replaces an entry frees the old one inside the
// store, which only the store can count).
type Sized interface {
	// Used returns the bytes all entries occupy, as Put and Delete report them.
	Used() int64
	// Len returns the number of keys.
	Len() int64
}

// Coster is a Store that says, before a Put, what the entry will occupy: the
// Manager reserves that much of the tier's budget while the Put runs, and
// reports a value whose cost exceeds the whole budget as too large.
type Coster interface {
	// Cost returns the most bytes Put would report for an entry with a key
	// of keyLen bytes, a value of valueLen bytes and meta of metaLen bytes.
	Cost(keyLen, valueLen, metaLen int) int64
}
