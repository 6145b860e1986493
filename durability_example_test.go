package tiermem_test

import (
	"errors"
	"fmt"
	"os"

	"github.com/tiermem/tiermem"
)

// ExampleManager_SetDurability makes a running Manager durable: the values
// it already holds in memory are written to the cold log first, and every
// later Store returns only once its value is on disk.
func ExampleManager_SetDurability() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions()) // Durability None
	if err != nil {
		panic(err)
	}
	defer m.Close()
	m.Store("model", []byte("weights"), tiermem.InTier(tiermem.Hot))
	fmt.Println(m.Durability(), m.Usage()[tiermem.Cold].Items)
	if err := m.SetDurability(tiermem.Always); err != nil {
		panic(err)
	}
	m.Store("config", []byte("v2"), tiermem.InTier(tiermem.Hot))
	fmt.Println(m.Durability(), m.Usage()[tiermem.Cold].Items)
	// Output:
	// none 0
	// always 2
}

func ExampleParseDurability() {
	d, err := tiermem.ParseDurability("Every-Second")
	fmt.Println(d, err)
	_, err = tiermem.ParseDurability("sometimes")
	fmt.Println(errors.Is(err, tiermem.ErrOptions))
	// Output:
	// every-second <nil>
	// true
}
