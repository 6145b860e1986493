//go:build race

package server_test

// raceEnabled is true under the race detector, whose shadow memory
// multiplies the RSS the Go heap's pages cost.
const raceEnabled = true
