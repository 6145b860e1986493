//go:build !race

package tiertest

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
