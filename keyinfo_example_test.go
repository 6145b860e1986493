package tiermem_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/tiermem/tiermem"
)

// ExampleManager_ScanInfo finds the biggest entry of each tier from the
// tiers' indexes, without reading a value.
func ExampleManager_ScanInfo() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	m.Store("small", []byte("v"), tiermem.InTier(tiermem.Hot))
	m.Store("large", make([]byte, 1<<20), tiermem.InTier(tiermem.Hot))
	m.Store("report", make([]byte, 4096), tiermem.InTier(tiermem.Cold))
	biggest := map[tiermem.Tier]tiermem.KeyInfo{}
	err = m.ScanInfo(func(k tiermem.KeyInfo) bool {
		if k.Size > biggest[k.Tier].Size {
			k.Key = strings.Clone(k.Key) // kept after the callback
			biggest[k.Tier] = k
		}
		return true
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(biggest[tiermem.Hot].Key, biggest[tiermem.Cold].Key)
	// Output: large report
}
