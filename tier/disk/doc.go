// Package disk is the cold tier: a log-structured store of values on local
// disk. [Store] implements tier.Persistent.
//
//	s, err := disk.Open(dir, &disk.Options{Sync: disk.SyncAlways})
//	n, err := s.Put("key", value, meta) // n: bytes the record occupies on disk
//	v, err := s.Get("key", nil)
//
// # Layout
//
// A store is a directory of segment files. Puts and Deletes append records
// to the active segment; at SegmentSize (64 MiB by default) it is sealed
// and a new one started. A record holds a header with its own checksum
// (covering the key and meta), the key, the meta and the value, stored raw
// or as one zstd frame when a sample shows compression pays, with an
// XXH3-64 checksum of the stored bytes. A Delete appends a tombstone.
// Every record has a sequence number, so the newest record of a key wins
// however segments were rewritten. Each sealed segment gets a hint file
// (its record headers, keys and metas) so that Open indexes it without
// reading it.
// docs/cold-format.md draws the formats.
//
// The index lives in memory: per key about 100 bytes plus the key and the
// meta. Open reads every hint file and scans the segments without one
// (after a clean Close, none); the cost is proportional to the number of
// records, not to the bytes stored.
//
// # Durability
//
// Records wait in a 1 MiB write buffer, written at aligned MiB offsets (so
// the page cache holds segments in large folios); values of 64 KiB and more
// are written straight from the caller's memory. [SyncMode] says when the
// buffer is written and fsynced, and so what a crash may lose: SyncNone
// flushes every 100 ms and leaves fsync to the OS; SyncEvery(d) flushes and
// fsyncs every d; SyncAlways returns from Put only after its record is
// written and fsynced, concurrent writers sharing one write and one fsync
// (group commit). Records still buffered are read from the buffer. A failed
// write or fsync (ENOSPC, EIO) cuts the segment back to where its batch
// began and fails that batch, so the store stays consistent, earlier
// records stay intact, and later writes work once the cause is gone; a
// full disk is reported as tier.ErrNoSpace.
//
// # Integrity and recovery
//
// Every read verifies the stored value's checksum and its decoded length:
// a mismatch is tier.ErrCorrupt, never altered bytes, and the other keys
// read fine. Open rebuilds the index from the files alone: hint files that
// verify, scans of the rest that skip bad headers by resynchronising on the
// next valid record, and a torn tail on the newest segment truncated (see
// recovery.go for the exact rules). A record whose value is corrupt stays
// indexed, so its key reports ErrCorrupt rather than an older value.
//
// # Reads
//
// Reads copy values out of read-only shared mappings of the segment files,
// made at a segment's first read, and verify them. A file that shrinks under
// a mapping would turn a read into SIGBUS; reads catch that fault, so such a
// value is tier.ErrCorrupt, not a crash. The pages that reads touch count
// in the process's RSS as shared file pages, which the kernel reclaims as it
// reclaims any page cache. Files that cannot be mapped are read with pread.
// Reads run concurrently with writes and with compaction: a compacted
// segment stays open until its last reader is done (its name is already
// gone). [Store.View] lends a pooled buffer that is valid only during its
// callback.
//
// # Compaction
//
// A background compactor rewrites sealed segments whose dead fraction
// reaches CompactThreshold: live records are copied byte for byte (sequence
// numbers and checksums included) into new segments that are synced,
// hinted and named before the old ones are removed. [Store.Compact] does
// the same for every segment with dead bytes. A tombstone is kept until no
// other segment holds a dead put older than it.
//
// # Concurrency
//
// All methods of Store are safe for concurrent use. View and Scan
// callbacks run without the store's locks held and may call its methods,
// except Close.
package disk
