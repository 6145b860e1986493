//go:build !race

package tiermem_test

const raceEnabled = false
