package tiermem_test

import (
	"fmt"
	"os"

	"github.com/tiermem/tiermem"
)

// ExampleManager_SetBudget shrinks the hot tier of a running Manager: what
// no longer fits is demoted, and every value stays readable.
func ExampleManager_SetBudget() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	for i := range 8 {
		m.Store(fmt.Sprint("page", i), make([]byte, 64<<10), tiermem.InTier(tiermem.Hot))
	}
	if err := m.SetBudget(tiermem.Hot, 256<<10); err != nil {
		panic(err)
	}
	u := m.Usage()
	v, err := m.Retrieve("page0")
	fmt.Println(u[tiermem.Hot].Capacity, u[tiermem.Hot].Used <= 256<<10, u[tiermem.Warm].Items > 0, len(v), err)
	// Output: 262144 true true 65536 <nil>
}
