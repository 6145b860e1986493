// Package tiermem keeps data across four memory tiers and moves it between
// them by how it is used:
//
//   - hot: live Go memory (or, with a GPU, device memory), uncompressed,
//     read in place;
//   - warm: RAM outside the Go heap (package memory, placed by package alloc),
//     optionally s2-compressed, at no garbage-collection cost;
//   - cold: a log-structured store on local disk (package tier/disk), with
//     per-record checksums, zstd when it pays, crash recovery;
//   - glacier: object storage (package tier/object): values packed into
//     objects of a local directory (<dir>/glacier by default) or any
//     S3-compatible bucket, each value its own zstd frame with a checksum.
//
// A Manager, from Open, stores values under string keys in a tier you name or
// that it chooses, never lets a tier exceed its byte budget (making room by
// demoting the entries its policy picks, write before delete; the one
// moment it may is a Rename in a full tier, which holds the value under
// both names between its write and its delete), demotes entries
// that stay idle, promotes those that are read often, and keeps every value's
// bytes exact: values that leave RAM carry a checksum that every read from disk
// verifies, and a mismatch is ErrCorrupt, never wrong bytes. Budgets
// (SetBudget), policies (SetTierPolicy) and durability (SetDurability)
// change while it serves.
//
//	m, err := tiermem.Open("./data", nil) // nil: defaults that fit the machine
//	if err != nil { ... }
//	defer m.Close()
//	err = m.StoreArray("matrix", tiermem.Float64Array(data, 1000, 1000), tiermem.InTier(tiermem.Hot))
//	a, err := m.RetrieveArray("matrix") // errors.Is(err, tiermem.ErrNotFound) on a miss
//	t, _ := m.Tier("matrix")            // Hot
//	u := m.Usage()                      // u[tiermem.Hot].Percent, ...
//
// Typed arrays (Array: dtype, shape, data) and Go values (Put and Get with a
// Codec) go through every tier unchanged.
//
// # Durability
//
// With Durability None, hot and warm are memory: Close writes them to the cold
// tier so that the next Open finds every key. EverySecond writes every Store
// through to the cold log and syncs it every second; Always returns from Store
// only once the record is on disk (concurrent Stores share one fsync). Cold
// recovers from its own files after a crash. A value reaches glacier only in
// a pack already durable in the object store, and leaves cold after; values
// stored straight into glacier, and removals from it, are durable at the
// next migration pass or Close (with Always, before the call returns).
// SetDurability changes the Durability while the Manager serves: from None,
// it first writes what hot and warm hold to the cold log.
//
// # Concurrency
//
// A Manager is safe for concurrent use. Operations on one key are ordered by a
// per-key lock; moves between tiers write the destination before deleting the
// source, so a reader always finds the key. Slices that View and ViewArray pass
// are valid only inside the callback, which must not call the Manager. Close
// waits for the operations in flight; those that begin after it return
// ErrClosed, and a Close that fails (a full disk) leaves the Manager open.
//
// # Keys
//
// The Manager copies a key whenever it keeps it (in a tier's index, the
// victims, the TTL and promotion queues) and keeps no reference to the
// caller's string past the call. So a key may be a string over memory the
// caller reuses — unsafe.String over a []byte read off the network — as long
// as the bytes do not change during the call: a read of a present key then
// allocates nothing for the key.
//
// # Tiers
//
// Each tier is a tier.Store (package tier holds the contract); Open uses the
// built-in ones unless TierOptions.Store hands over another.
package tiermem
