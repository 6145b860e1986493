package dataset_test

import (
	"fmt"
	"testing"

	"github.com/tiermem/tiermem/internal/dataset"
)

func TestScrambledYieldsEachRecordOnce(t *testing.T) {
	for _, n := range []int{0, 1, 7, 1000, 65536} {
		seen := make(map[string]bool, n)
		for k, v := range dataset.Scrambled(n) {
			if len(k) != dataset.KeySize || len(v) != dataset.ValueSize || seen[string(k)] {
				t.Fatalf("n=%d: key %q (value of %d bytes) repeated or malformed", n, k, len(v))
			}
			seen[string(k)] = true
		}
		if len(seen) != n {
			t.Fatalf("n=%d: %d distinct records", n, len(seen))
		}
	}
}

func ExampleKey() {
	fmt.Printf("%s\n", dataset.Key(nil, 1234))
	// Output: key:000000001234
}

func ExampleScrambled() {
	for k := range dataset.Scrambled(4) {
		fmt.Printf("%s ", k)
	}
	fmt.Println()
	// Output: key:000000000000 key:000000000003 key:000000000002 key:000000000001
}
