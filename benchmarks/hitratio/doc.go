// Package hitratio replays the shared cache traces, and the generated probe
// traces of cache/probe, through live otter v2 and theine caches beside
// tiermem's LRU and Adaptive policies, and prints the hit-ratio table of
// BENCHMARKS.md. The peers run as their users run them, with their maintenance
// made synchronous so that every run gives the same figures. It has no code of
// its own beyond the test; see BENCHMARKS.md at the repository root.
package hitratio
