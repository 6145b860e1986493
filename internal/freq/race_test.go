//go:build race

package freq_test

// manyKeys is the size of TestFalsePositives' large case, smaller under the
// race detector so that the package's tests stay under about 20 seconds.
const manyKeys = 200_000
