// Package cluster keeps values in a Redis Cluster: tiermem's distributed
// mode, for data larger than one machine or shared by many.
//
// Redis Cluster owns sharding, replication and failover; this package adds
// what a store of large values needs on top of it:
//
//   - Chunks. A value is split into chunks (4 MiB by default) whose keys hash
//     to slots spread over every master, written and read in parallel,
//     pipelined per master, with bounded memory in flight. A value up to
//     64 KiB lives inside its manifest.
//   - Manifests and generations. A small manifest per key (generation,
//     length, chunk size, XXH3-64 of every chunk, kind, dtype and shape) is
//     written after its chunks; a new Store makes a new generation, so a
//     reader never mixes old and new chunks, and a checksum mismatch is
//     ErrCorrupt, never wrong bytes. Sweep removes the chunks of crashed
//     writers.
//   - Replication factor. With ReplicationFactor n, a Store returns only once
//     every chunk and the manifest are acknowledged by n-1 replicas (WAIT).
//     WAIT is not consensus: docs/distributed.md says what it guarantees
//     under failover and what it does not.
//   - Node status from the cluster itself, and an optional local
//     *tiermem.Manager in front as a near cache, checked against the
//     manifest's generation on every read.
//   - Failover and resharding. Each step of an operation (a manifest, a
//     batch of chunks) retries through a failover, reloading the slot map
//     once a node is out of reach, for at most Options.RetryTimeout; writes
//     follow the ASK and MOVED replies of slots being migrated, their WAIT
//     sent to the node that took them.
//   - Spill. With Options.Glacier (a tier/object bucket every client shares),
//     a value the full cluster refuses (OOM) is written there as one object,
//     and its manifest, in the cluster, says so.
//
// A Cluster is made by Open and is safe for concurrent use; Close waits for
// the operations in flight, and those begun after it began return ErrClosed
// at once. Slices passed to Store are not kept past the call;
// slices returned by Retrieve belong to the caller.
package cluster
