// Package freq estimates how often each key was read recently, in about two
// bytes per key, without a lock on the read path.
//
// A Sketch is a count-min sketch with conservative update: each key has one
// 4-bit counter in each of 4 rows, a read increments those of its counters
// that hold the smallest value, and the estimate is the smallest. Every
// window, Age halves all counters, so a read counts in full in its window,
// half in the next, and is gone after four. The caller sizes the table with
// Resize to the number of keys it holds:
//
//	s := freq.New(&freq.Options{Window: time.Minute, Keys: n})
//	for key := range reads {
//		if s.Add(key) >= hits { // hits ≤ freq.Max
//			promote(key)
//		}
//	}
//	// and once per maintenance pass:
//	s.Age()
//	s.Resize(keysHeld)
//
// # Error
//
// Estimates never fall below the aged count of a key's reads, save for the
// racing Adds that Add's doc names; they rise above it when other keys share
// all of a key's counters. The table has between 0.75 and 1.5 keys per
// counter of a row (1⅓ to 2⅔ bytes per key, a power of two in all). When as
// many distinct keys as Resize was told are each read once in a window, the
// fraction estimated at 2 or more and at 3 or more is, as TestFalsePositives
// measures it:
//
//	keys held    table     keys per counter  ≥ 2      ≥ 3
//	300,000      512 KiB   1.14              6.9%     0.0003%  (1 key)
//	393,216      512 KiB   1.50 (worst)      12.7%    0.017%
//	393,217      1 MiB     0.75 (best)       2.3%     0
//	10,000,000   16 MiB    1.19              7.6%     0.003%   (285 keys)
//
// Fewer distinct keys read per window give fewer false counts; reads of many
// more keys than Resize was told give more, as in any count-min sketch.
//
// # Concurrency
//
// A key's 4 counters sit in 4 words of one 64-byte block. Add and Estimate
// load the table through an atomic pointer and change counters by
// compare-and-swap, so they take no lock and scale with the goroutines
// calling them. Age, Resize and Reset serialize on a mutex of their own,
// which Add and Estimate never touch: Age halves the table word by word
// (compare-and-swap, so no Add is lost to it) while reads go on, and Resize
// builds a new table beside the old one and swaps it in, losing the Adds that
// land in the old table after their word was copied.
package freq
