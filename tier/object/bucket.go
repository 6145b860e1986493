package object

import "context"

// Bucket is the object store a Store keeps its packs in: a flat namespace
// of immutable objects, written whole and read by byte range. The local
// directory (Dir) and S3 (package tier/object/s3) implement it; a third
// store is one file implementing these five methods. Implementations are
// safe for concurrent use.
//
// Errors: a missing object wraps ErrNotExist and a missing bucket
// ErrNoBucket (neither is retried); every other error is taken as
// transient and retried by the Store, with backoff, under a deadline per
// request carried by ctx.
type Bucket interface {
	// Put stores data under name, replacing any object there, atomically:
	// a reader sees the whole old object, the whole new one, or none. It
	// returns once the object is durable. data is not retained.
	Put(ctx context.Context, name string, data []byte) error

	// Get returns n bytes of the object name starting at byte off. It may
	// return fewer only with an error; a caller checks the length anyway
	// (a truncated body is a transient error). The returned slice is the
	// caller's.
	Get(ctx context.Context, name string, off, n int64) ([]byte, error)

	// List calls fn for every object whose name begins with prefix, with
	// its size in bytes, in no particular order; it stops at fn's first
	// error and returns it.
	List(ctx context.Context, prefix string, fn func(name string, size int64) error) error

	// Delete removes the object name; deleting an absent object succeeds.
	Delete(ctx context.Context, name string) error

	// String names the bucket in errors and logs, without credentials:
	// "s3://bucket/prefix" or "file:///path".
	String() string
}

// ObjectCreator is a Bucket that stores an object only where none is. A
// Store writes its packs and indexes with CreateObject when its Bucket has
// it, so that a second Store given the same bucket and prefix by mistake
// fails with ErrExists instead of overwriting the first one's packs; over
// a Bucket without it, the two silently damage each other. Dir, Mem and
// package s3's Bucket (If-None-Match: *) implement it.
type ObjectCreator interface {
	// CreateObject stores data under name as Put does, only if no object
	// is there; one that is makes it return an error wrapping ErrExists
	// and leaves that object as it was. Of two CreateObjects of one name
	// at once, one succeeds.
	CreateObject(ctx context.Context, name string, data []byte) error
}
