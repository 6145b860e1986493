package tiermem_test

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/tiermem/tiermem"
)

// ExampleManager_IdleTime asks how long ago keys were last used: the hot
// tier keeps each key's time, the warm tier's CLOCK (its PolicyAuto) keeps
// only reference bits.
func ExampleManager_IdleTime() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	m.Store("fresh", []byte("v"), tiermem.InTier(tiermem.Hot))
	m.Store("bulk", []byte("v"), tiermem.InTier(tiermem.Warm))
	d, err := m.IdleTime("fresh")
	fmt.Println(d < time.Minute, err)
	_, err = m.IdleTime("bulk")
	fmt.Println(errors.Is(err, tiermem.ErrNoIdleTime))
	// Output:
	// true <nil>
	// true
}
