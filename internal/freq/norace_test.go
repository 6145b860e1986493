//go:build !race

package freq_test

// manyKeys is the size of TestFalsePositives' large case.
const manyKeys = 10_000_000
