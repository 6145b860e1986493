// Package object is the glacier tier: a tier.Store that keeps values in
// an object store, a local directory by default (Dir) or any
// S3-compatible bucket (package tier/object/s3), packed so that millions
// of small values do not become millions of objects. Mem, a bucket in
// memory, serves tests. Every Bucket passes the same contract checks
// (internal/buckettest).
//
//	b, err := object.OpenDir("./data/glacier")
//	s, err := object.Open(b, nil) // rebuilds the catalog from the bucket
//	defer s.Close()
//	_, err = s.Put("report-2024", value, meta)
//	err = s.Sync() // now durable: the caller may delete its own copy
//
// # Packs
//
// Puts append one frame per value to an open pack in memory: the value
// compressed on its own (zstd at Options.Compression, kept only where it
// saves a sixteenth), with its key, meta, lengths and an XXH3-64 checksum,
// so that the frame describes itself. When the pack reaches
// Options.PackSize (32 MiB) it is sealed and uploaded in the background
// as one object, followed by a small index object listing its frames.
// Deletes append tombstone frames the same way. docs/glacier-format.md
// draws both formats.
//
// A read finds the key in the in-memory catalog and fetches its frame
// with one ranged GET (from memory while the pack is not yet uploaded),
// verifies the checksum and decompresses: a frame that does not verify is
// a *CorruptError (tier.ErrCorrupt), never wrong bytes.
//
// # Durability
//
// A Put or Delete is durable once a later Sync returns nil: Sync seals the
// open pack and waits until every pack is in the bucket, pack before
// index. The Manager demotes a batch of values with Put, calls Sync, and
// only then deletes them from the cold tier. An upload that fails keeps
// its pack in memory, readable, for the next Sync to retry (a pack whose
// index failed after it is deleted from the bucket again); Close fails
// the same way and may be retried. Meanwhile Puts and Deletes first retry
// it and fail while it fails, so that memory stays bounded
// (Options.Uploads). Revert takes back a Put whose Sync failed: while the
// bucket holds none of its pack, its frame is replaced there by what the
// key held before, so that no later upload, whatever fails, makes the
// failed Put durable. An index request of a failed upload that lands
// late, after the pack was deleted, is deleted or replaced by the pack's
// next upload: the store's own earlier write, not another writer's.
//
// # Recovery
//
// Open lists the bucket, reads every index and replays the entries oldest
// pack first (sequence numbers are in the names), so a key's newest frame
// wins and tombstones hide what came before them. A pack whose index is
// missing or damaged is scanned frame by frame and its index rewritten; a
// pack that does not verify fails Open closed (a frame past the damage
// might be a newer version of a key), as does an index without its pack:
// its pack was deleted outside the store, or, when it is the newest index,
// an index request of a failed upload timed out and landed after the
// upload deleted the pack (a crash came before the next upload cleaned it
// up). The store cannot tell the two apart, so it does not open without
// the pack; the error says when deleting the index is safe.
// The first pack that cannot be read (ErrUnavailable, ErrNoBucket) stops
// Open, with that one error; every pack that does not verify is reported.
//
// # Compaction
//
// Compact rewrites the packs whose live share fell below
// Options.MinLiveShare: live frames are copied verbatim into the open
// pack, tombstones that still hide an older frame are kept (also one in a
// pack compacted earlier whose delete has not yet succeeded), and the old
// pack is deleted (index first) only once its copies are durable.
//
// # A slow, failing store
//
// Every request has a deadline (Options.RequestTimeout), transient errors
// are retried with exponential backoff (Options.Retries), at most
// Options.Concurrency requests are in flight, and every error names the
// bucket and the object. A missing object (ErrNotExist) or bucket
// (ErrNoBucket) is not retried.
//
// # Concurrency and lifetimes
//
// A Store and a Dir are safe for concurrent use. One Store at a time may
// open a bucket (prefix): nothing locks it, and two writers would reuse
// sequence numbers. Close is a gate: it waits
// for the calls in flight, uploads what is pending, and every later call
// returns tier.ErrClosed. Values and metas passed to Put are copied;
// those ViewMeta and Scan lend are valid only during the callback.
package object
