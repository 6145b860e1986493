// Package kv compares the Manager's hot path with the in-memory caches a Go
// engineer would otherwise pick: fastcache, freecache and bigcache, at one
// and ten million entries of 16-byte keys and 100-byte values (issue 11).
//
// Each store runs in a process of its own, so that one store's heap, mappings
// and collector never touch another's figures: TestKV re-executes the test
// binary once per store, size and round, alternating the stores and rotating
// their order every round, and prints one table of medians and ranges, with
// each tiermem cell's ratio against fastcache and freecache. A child
// (TestStore, -kv.store) loads the store, then measures Gets with one and two
// goroutines and a mixed load, and reports RSS, collections, pause p99 and
// allocations per operation of each phase.
//
// Quick check (100 000 entries, one round):
//
//	go test -short ./kv
//
// The full table (about 25 minutes on a 2-vCPU VM; see BENCHMARKS.md):
//
//	go test -c -o /tmp/kv.test ./kv
//	/tmp/kv.test -test.run '^TestKV$' -test.timeout 2h -kv.full
//
// It has no code of its own beyond the tests.
package kv
