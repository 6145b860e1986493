//go:build race

package disk_test

// raceEnabled is true when the tests run under the race detector, which
// makes bulk loops about ten times slower: sequential sweeps scale down.
const raceEnabled = true
