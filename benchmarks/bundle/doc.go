// Package bundlebench measures bundles against their baselines and peers:
// lookups against a Go map, bbolt and pogreb on the same data (time and file
// size), the resident memory of several processes reading one bundle, and the
// speed and peak memory of large builds. Everything here is a benchmark; the
// large ones are sized by flags and skip themselves by default:
//
//	cd benchmarks
//	flock /tmp/tiermem-bench.lock go test -run '^$' -bench . -benchtime 1x ./bundle \
//		-bundle.keys 10000000 -bundle.buildkeys 50000000
//
// BENCHMARKS.md (section bundle) records the figures.
package bundlebench
