// Package cache compares tiermem's cache with otter v2, theine and ristretto v2:
// Get throughput on a Zipf-distributed key set (all reads, and 75% reads with
// 25% writes, chosen per operation) and memory per entry. It has no code of its
// own beyond the benchmarks; see BENCHMARKS.md at the repository root.
package cache
