package tiermem_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/tiermem/tiermem"
)

// ExampleManager_StoreFrom stores a file's bytes straight from the file:
// bound for the cold tier, the value is streamed through a small buffer,
// whatever its size.
func ExampleManager_StoreFrom() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	name := filepath.Join(dir, "report.csv")
	os.WriteFile(name, []byte("day,visits\nmon,12\ntue,15\n"), 0o600)
	f, err := os.Open(name)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	info, _ := f.Stat()
	if err := m.StoreFrom("report", f, info.Size(), tiermem.InTier(tiermem.Cold)); err != nil {
		panic(err)
	}
	v, _ := m.Retrieve("report")
	t, _ := m.Tier("report")
	fmt.Printf("%s: %d bytes in %v\n", "report", len(v), t)
	// Output: report: 25 bytes in cold
}
