// Package tier defines what one memory tier is to the tiermem Manager: a
// Store that keeps values, each with a small meta, under string keys. The
// backends live in the sub-packages: tier/heap (live Go memory, the hot tier
// without a GPU), tier/offheap (RAM outside the Go heap, warm), tier/disk (a
// log-structured store on local disk, cold), tier/object (values packed
// into objects of a directory or an S3 bucket: glacier) and, later, GPU
// memory (hot with a GPU).
//
// # The contract
//
// Store is everything the Manager calls on every backend: Put, ViewMeta and
// Meta to read, Delete, Scan to list, Used and Len for the budgets, Cost to
// reserve room before a Put, and Close. A Store keeps bytes; it does not
// enforce a byte budget, choose victims or move values: the Manager does,
// from the sizes that Put reports and Cost bounds.
//
// Abilities only some backends have are named interfaces beside it, which
// the Manager detects once, at Open:
//
//   - Persistent (Sync): data survives Close and crashes. The cold tier's
//     store must be one.
//   - MetaGetter (GetMeta): reads a value straight into the caller's buffer,
//     for a store whose reads copy anyway.
//   - Sizer (Size): reports what one entry occupies, so that a value
//     replacing it reserves only the difference.
//   - Trimmer (Trim): gives back memory kept for reuse, every migration pass.
//   - VictimChooser (Victim, Idle): chooses victims from state the store
//     keeps per entry anyway (CLOCK bits), so the Manager keeps none.
//   - StoredViewer (ViewStored) and StoredPutter (PutStored): a value
//     passed as stored, a zstd frame kept as it is, so that a move between
//     two stores that both compress with zstd (cold to glacier) neither
//     decompresses nor compresses it again.
//
// Every backend states what it implements with compile-time checks
// (var _ tier.Persistent = (*Store)(nil)), and runs the conformance suite in
// internal/tiertest: the contract's behaviour, byte accounting, Close while
// readers and writers run, ErrClosed after Close, and, for persistent
// stores, every acknowledged write found after reopening.
//
// Close is a gate: it waits for the calls in flight and every later call
// returns ErrClosed; no call ever touches memory Close has released.
//
// # How a backend reaches the Manager
//
// Backends are injected, not hard-wired: tiermem.TierOptions.Store takes a
// Store the caller constructed, and the Manager opens its built-in one
// (heap, offheap, disk) only when none is given. So a backend with heavy
// dependencies (an object-store client, a GPU driver loader) lives in a
// package that only its users import, and the tiermem package never imports
// it. We chose an option holding a constructed Store over a registry of URL
// schemes (the database/sql driver idiom) because a constructed Store
// carries typed options and its own errors at construction, and needs no
// global state; a URL syntax for configuration files can be layered on top
// by a package that constructs Stores from URLs.
package tier
