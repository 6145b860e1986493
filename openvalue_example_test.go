package tiermem_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"

	"github.com/zeebo/xxh3"

	"github.com/tiermem/tiermem"
)

// ExampleManager_OpenValue sends a large cold value to a writer in pieces:
// it is read from disk as it goes, never held in memory whole.
func ExampleManager_OpenValue() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	big := make([]byte, 8<<20)
	rand.NewChaCha8([32]byte{}).Read(big) // incompressible: stored raw, streamed
	m.Store("video", big, tiermem.InTier(tiermem.Cold))
	v, err := m.OpenValue("video")
	if err != nil {
		panic(err)
	}
	defer v.Close()
	n, err := io.Copy(io.Discard, io.NewSectionReader(v, 0, v.Size()))
	fmt.Println(v.Tier(), v.Streamed(), v.Size(), n, err)
	// Output: cold true 8388608 8388608 <nil>
}

// ExampleManager_OpenValueDeferred answers what a HEAD request needs — the
// size and the checksum of a large cold value — without reading the
// value; the first ReadAt would verify it whole before handing out a byte.
func ExampleManager_OpenValueDeferred() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	big := make([]byte, 8<<20)
	rand.NewChaCha8([32]byte{}).Read(big)
	m.Store("video", big, tiermem.InTier(tiermem.Cold))
	v, err := m.OpenValueDeferred("video")
	if err != nil {
		panic(err)
	}
	defer v.Close()
	fmt.Println(v.Size(), v.Checksum() == xxh3.Hash(big), v.Verify())
	// Output: 8388608 true <nil>
}
