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
// reading it, and its header gets its record count, so that a segment cut
// after it was whole is damage even when the cut falls between records.
// docs/cold-format.md draws the formats. Anything else in the directory
// (another name, upper-case hex, an id of 2^63 or more, a FIFO or a
// directory with a store file's name) is litter: the store never opens it
// or numbers segments from it, and never creates a segment over a file.
//
// The index lives in memory: per key about 135 bytes of Go heap with a
// 16-byte key (the key's bytes and its 64-byte entry in one allocation,
// and the map's slot), plus the meta (BenchmarkIndexMemory). Open reads every hint file and scans the segments without one
// (after a clean Close, none); the cost is proportional to the number of
// records, not to the bytes stored.
//
// # Durability
//
// A Put or Delete encodes its record into the store's write buffer, in
// process memory, before it returns (values of 64 KiB and more are
// written to the file at once, straight from the caller's memory, except
// their unaligned ends). The buffer is written to the segment file, and so
// to the operating system's page cache:
//
//   - when it reaches the next 2 MiB-aligned offset of the file (the
//     buffer holds at most 2 MiB, written in aligned pieces so the page
//     cache keeps segments in large folios);
//   - before a direct write of a large value, at segment rotation, at
//     Sync and at Close;
//   - under SyncNone, every 100 ms by a background flusher, so a record
//     waits in process memory at most about 100 ms;
//   - under SyncEvery(d), every d, with an fsync; under SyncAlways, before
//     Put returns, with an fsync shared by concurrent writers (group
//     commit).
//
// The mode is Options.Sync until SetSync changes it while the store
// serves; a stricter mode first syncs what was written under the old one.
//
// So with SyncNone a killed process loses the records of the last 100 ms
// or so (still in the buffer); a machine crash also loses what the
// operating system had not written back, and may leave holes that Open
// then reports (see below). Records still buffered are read from the
// buffer. A failed write or fsync (ENOSPC, EIO) cuts the segment back to
// where its batch began and fails that batch, so the store stays
// consistent, earlier records stay intact (buffered ones stay buffered)
// and later writes work once the cause is gone; a full disk is reported as
// tier.ErrNoSpace. A Sync or Close that fails leaves the store open and
// usable with every acknowledged record kept: free space and call Close
// again. Open works on a full disk too: a store whose last segment has no
// room opens without a segment to append to, serves its values, and
// creates one at the first write (which fails with tier.ErrNoSpace while
// the disk stays full).
//
// # Integrity and recovery
//
// Every read verifies the stored value's checksum and its decoded length:
// a mismatch is tier.ErrCorrupt, never altered bytes, and the other keys
// read fine. Open rebuilds the index from the files alone, and fails
// closed: a segment or record header (with its key and meta) that does not
// verify makes Open fail with a [*CorruptError] (tier.ErrCorrupt) naming
// the file and byte offset, since skipping it could serve an older value
// or resurrect a deleted key. The one exception is a torn tail: on the
// newest segment only, the bytes after the last verifying record when no
// verifying record follows and they look as a cut append does (a header
// or head running past the end of the file, or zeros) rather than as a
// damaged record; Open truncates it. A record whose head verifies but whose value
// does not stays indexed, so its key reports ErrCorrupt rather than an
// older value. Hint files that fail their checks are ignored and their
// segments scanned. recovery.go has the exact rules.
//
// [Repair] (the command "tiermem repair") salvages a store that Open
// refuses: it keeps every intact record, replaces each damaged record
// whose key can still be read by a tombstone (or restores it, when one
// flipped bit in its head is found and corrected), and reports every
// damaged region and every key lost. A damaged region whose keys cannot
// be read may have held the newest version of some key, which then reads
// as its previous version; the report says so when that happens.
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
// hinted and named before the old ones are removed. A segment whose
// records do not all verify is neither compacted nor hinted: Compact
// returns its *CorruptError. [Store.Compact] does
// the same for every segment with dead bytes. A tombstone is kept until no
// other segment holds a dead put older than it.
//
// # Concurrency
//
// All methods of Store are safe for concurrent use, Close included: every
// method enters through a gate that Close shuts and drains, so an
// operation either completes before Close syncs or returns
// tier.ErrClosed. View and Scan callbacks run without the store's locks
// held and may call its methods, except Close.
//
// # Failed syncs
//
// Under SyncEvery, a background sync that fails (a full disk) leaves a
// debt: the next Put or Delete retries the sync first and fails with its
// error while it still fails, so no write is acknowledged while the ones
// before it cannot reach the disk. A Sync or Close that fails for lack of
// space keeps everything and can be retried. After an fsync I/O error
// Linux may have dropped the pages it did not write and report the next
// fsync clean, so every later sync of that segment (or directory) fails
// with ErrSyncFailed, and Close releases the store reporting it: the next
// Open keeps what reached the disk and fails closed on what did not.
package disk
