// Package alloc places allocations in an offset space of N bytes: it decides
// where things go and keeps all of its bookkeeping outside the space, so the
// same allocator can manage off-heap memory, a mapped file or GPU memory.
//
// Three allocators implement [Allocator]:
//
//   - [Slab]: size classes (about 6% apart, so internal fragmentation stays
//     near 3%), spans of one class each, a free bitmap per span and a list
//     of partly free spans per class. Allocation and free are O(1) and
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
// dealloc do: it lets the allocators keep less than 1% metadata and still
// detect frees of offsets they never handed out.
//
// Allocators are not safe for concurrent use: like the cache policies, one
// owner holds the lock ([Synchronized] wraps one in a mutex). Their zero
// values are not usable; call the constructors.
package alloc
