// Package cache is tiermem's in-process cache and the eviction policies that
// the memory tiers share.
//
// A Cache is concurrent and generic, with a weight budget that holds on every
// path (set, replace, expiry, delete, eviction), per-entry TTL checked by every
// Get and swept in the background, eviction callbacks called outside any lock,
// a Stats snapshot, and Analyze, which estimates what another budget would do:
//
//	c, err := cache.New(&cache.Options[string, []byte]{
//		MaxWeight: 64 << 20,
//		Weigher:   func(k string, v []byte) int64 { return int64(len(k) + len(v)) },
//	})
//	...
//	defer c.Close()
//	c.Set("k", value)
//	v, ok := c.Get("k")
//
// A Policy decides what leaves. It is pure and unsynchronized: it knows keys and
// weights, never values, and one owner serializes its calls, so the tiers use
// policies directly while the Cache wraps one in its lock. The Cache holds its
// policy in handle form: the policy's links live in the cache's entries, so
// that a resident key costs one allocation and no second map (about 87 bytes
// an entry for uint64 keys and values under Adaptive; LFU, which has no handle
// form, keeps its own map). LRU, LFU and FIFO are the classic policies;
// S3FIFO is S3-FIFO, cheap and strong on block-storage traces; Adaptive, the default, is window TinyLFU whose window size and
// admission rule are chosen continuously by simulating candidate settings on a
// sample of the keys. On the reference traces of the project
// (database, search, recommendation, loop and mixed workloads) it meets or
// comes within a point or two of the best published policy on each; see
// BENCHMARKS.md, and `tiermem sim` to replay traces.
package cache
