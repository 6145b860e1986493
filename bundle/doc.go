// Package bundle keeps large, read-mostly key/value data in immutable files
// that many processes share through mmap: a bundle is built once, then every
// process maps it, only the pages that are read sit in RAM (once for all
// processes), and values are read in place, with no deserialization.
//
//	info, err := bundle.Build("users.bundle", records, nil) // any iter.Seq2[[]byte, []byte]
//	b, err := bundle.Open("users.bundle")                  // O(1): maps the file
//	defer b.Close()
//	v, err := b.Get([]byte("alice"))                       // a slice of the mapping, no copy
//
// # Building
//
// A [Builder] takes records one by one, in any order, and writes the bundle
// with bounded memory ([Options.MemoryLimit]): records are sorted in runs
// spilled to a temporary directory and merged back, values of 16 bytes or
// more that are identical are stored once, values too large to buffer are
// streamed through a spool file, and progress is reported. The file appears
// at its path only when complete: it is written beside it, synced and
// renamed.
//
// # Index
//
// Entries are sorted by the 64-bit xxHash of their key, with no empty slots.
// A lookup reads a guide (the first entry of each range of hashes), guesses
// the position by interpolating the hash within its range, reads the two
// cache lines around the guess and, only when they do not bracket the hash,
// gallops from them and binary-searches the bracket; it lands on the first of
// any entries with an equal hash. Most entries are direct: they hold the key
// (up to 16 bytes) and the value's offset and length, so that Get compares
// the key and returns the value without reading anything but the index.
// Records with longer keys or a meta area keep an entry that points to them.
// The index is [Exact] (keys stored and compared), [Approximate] (hashes
// only: fixed-size entries, rare false positives) or [Multi] (every value of
// a key).
//
// # Reading
//
// [Open] checks the header and section table and maps the file: its cost does
// not depend on the file's size. [Bundle.Get] returns a slice into the mapping,
// valid until Close, without allocating. [Bundle.All] iterates every record in
// key-hash order. Many goroutines and many processes may read one bundle at
// once. A corrupt file is an error wrapping [ErrCorrupt], never a panic:
// Open validates the header, every read validates the offsets it follows,
// and [Bundle.Verify] checks every byte against the sections' checksums.
//
// # Values with structure
//
// Values are bytes. Package record lays a Go struct out in them so that a
// view reads each field straight from the mapping. Each record may also carry
// a small meta area ([Record.Meta]) beside its key, never deduplicated: a
// place for flags, a tier or an expiry, so that the value stays exactly the
// bytes that were stored and can still be deduplicated and viewed in place.
//
// # Snapshots
//
// A bundle is a snapshot format: a Builder takes any number of records with
// bounded memory ([Builder.AddStream] for values that should not be held in
// memory at all), the file appears complete or not at all, and [Bundle.All]
// yields every record back. Per-record state (a tier, an expiry, flags) goes
// in [Record.Meta], so the value stays the stored bytes: deduplicated, and
// viewable in place. [Bundle.Verify] checks a snapshot before it is restored.
//
// # Layers
//
// A [Layered] store puts a mutable in-memory delta of sets and deletes over a
// bundle and reads both as one; [Layered.Merge] writes a new bundle with the
// delta folded in and swaps it in while readers go on.
//
// Several stores, in one process or many, may merge one path. A Merge folds
// its delta into the newest bundle at the path, and swaps its file in only if
// no other store's Merge replaced that bundle meanwhile; else it returns
// [ErrConflict] and keeps the delta for the next Merge. A Merge that returns
// nil never drops what another store merged. A build or Merge that a crash
// stopped leaves temporary files beside the path (path.tmp-*, and
// path.work-* in [Options.TempDir]); the next build and the next
// [OpenLayered] of the path remove them, and nothing else.
//
// The file format is drawn in docs/bundle-format.md.
package bundle
