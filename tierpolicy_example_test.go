package tiermem_test

import (
	"fmt"
	"os"

	"github.com/tiermem/tiermem"
)

// ExampleManager_SetTierPolicy switches the warm tier of a running Manager
// from CLOCK (its PolicyAuto) to LRU.
func ExampleManager_SetTierPolicy() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	if err := m.SetTierPolicy(tiermem.Warm, tiermem.PolicyLRU); err != nil {
		panic(err)
	}
	p, _ := m.TierPolicy(tiermem.Warm)
	fmt.Println(p)
	// Output: lru
}

func ExampleParsePolicy() {
	p, err := tiermem.ParsePolicy("S3FIFO")
	fmt.Println(p, err)
	// Output: s3fifo <nil>
}
