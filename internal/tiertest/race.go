//go:build race

package tiertest

// raceEnabled reports whether the race detector is on: the concurrent
// checks then run fewer rounds, each several times slower.
const raceEnabled = true
