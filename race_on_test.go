//go:build race

package tiermem_test

// raceEnabled is true when the tests run under the race detector, which
// makes bulk loops about ten times slower: they scale down.
const raceEnabled = true
