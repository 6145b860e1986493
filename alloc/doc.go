// Package alloc places allocations in an offset space of N bytes: it decides
// where things go and keeps all of its bookkeeping outside the space, so the
// same allocator can manage off-heap memory, a mapped file or GPU memory.
//
// Three allocators implement [Allocator]:
//
//   - [Slab]: size classes (every multiple of 16 bytes up to 256, then
//     about 6% apart: a record above 256 bytes wastes under 6% of its slot,
//     about 3% on average, while a smaller one wastes up to 15 bytes, 47% of
//     a 17-byte record), spans of one class each, a free bitmap per span and
//     a list of partly free spans per class. Allocation and free are O(1) and
//     allocation-free; double and foreign frees are detected.
//   - [Arena]: a bump allocator for bulk, short-lived allocations. It never
//     moves what it handed out; Reset reclaims everything at once.
//   - [Buddy]: power-of-two blocks for variable sizes, split on allocation and
//     coalesced with their buddy on free.
//
// [Regions] puts any of them in front of a [memory.WritableMemory] and hands
// out writable sub-regions. [Pool] is a typed sync.Pool for reusable Go values.
//
// Free takes the size that was allocated, as C++'s sized delete and Rust's
// dealloc do: it lets the allocators keep little metadata and still detect
// frees of offsets they never handed out. A Slab keeps about one bit per
// slot, 70 bytes per span and a few KiB for its size classes: under 1% of a
// space of 16 MiB or more with spans of 64 KiB or more, but 1.8% for a 1 MiB
// Slab full of 16-byte slots. A Buddy keeps about 4 bits per MinBlock bytes:
// under 1% with blocks of 64 bytes or more, 3% with 16-byte blocks. Stats
// reports the figure as MetadataOverhead.
//
// Allocators are not safe for concurrent use: like the cache policies, one
// owner holds the lock ([Synchronized] wraps one in a mutex). Their zero
// values are not usable; call the constructors.
package alloc
