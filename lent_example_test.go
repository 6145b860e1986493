package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/tiermem/tiermem"
)

// ExampleManager_RetrieveShared serves values with a buffer that is
// reused: a small value is appended to it, and a large hot value is the
// hot tier's own memory, shared rather than copied (and never to be
// written to or reused as the buffer).
func ExampleManager_RetrieveShared() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	m.Store("small", []byte("hello"), tiermem.InTier(tiermem.Hot))
	m.Store("model", bytes.Repeat([]byte{7}, 1<<20), tiermem.InTier(tiermem.Hot))
	buf := make([]byte, 0, 4<<10)
	for _, key := range []string{"small", "model"} {
		value, shared, err := m.RetrieveShared(buf[:0], key)
		if err != nil {
			panic(err)
		}
		if !shared {
			buf = value // the copy went into buf: keep reusing it
		}
		fmt.Println(key, len(value), shared)
	}
	// Output:
	// small 5 false
	// model 1048576 true
}

// ExampleManager_ViewBytesShared queues replies the way a server does: a
// value the hot tier shares (64 KiB or more) is kept as it is until the
// replies are written, any other is copied before the callback returns.
func ExampleManager_ViewBytesShared() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	m.Store("small", []byte("hello"), tiermem.InTier(tiermem.Hot))
	m.Store("model", bytes.Repeat([]byte{7}, 1<<20), tiermem.InTier(tiermem.Hot))
	var queued [][]byte
	for _, key := range []string{"small", "model"} {
		err := m.ViewBytesShared([]byte(key), func(value []byte, shared bool) error {
			if !shared {
				value = bytes.Clone(value) // valid only until the callback returns
			}
			queued = append(queued, value)
			fmt.Println(key, len(value), shared)
			return nil
		})
		if err != nil {
			panic(err)
		}
	}
	// Output:
	// small 5 false
	// model 1048576 true
}

// ExampleManager_ViewShared tells a value that may be kept after the
// callback (a large hot one) from one that must be copied.
func ExampleManager_ViewShared() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	m.Store("weights", bytes.Repeat([]byte{1}, 256<<10), tiermem.InTier(tiermem.Hot))
	m.Store("weights-copy", bytes.Repeat([]byte{1}, 256<<10), tiermem.InTier(tiermem.Warm))
	for _, key := range []string{"weights", "weights-copy"} {
		m.ViewShared(key, func(value []byte, shared bool) error {
			fmt.Println(key, shared)
			return nil
		})
	}
	// Output:
	// weights true
	// weights-copy false
}

// ExampleManager_RetrieveArrayShared reads a large hot array without
// copying it (its data must then be left unchanged), and a small one as a
// copy of its own.
func ExampleManager_RetrieveArrayShared() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	m.StoreArray("weights", tiermem.Float32Array(make([]float32, 64<<10), 256, 256), tiermem.InTier(tiermem.Hot))
	m.StoreArray("bias", tiermem.Float32Array(make([]float32, 256)), tiermem.InTier(tiermem.Hot))
	for _, key := range []string{"weights", "bias"} {
		a, shared, err := m.RetrieveArrayShared(key)
		if err != nil {
			panic(err)
		}
		fmt.Println(key, a, shared)
	}
	// Output:
	// weights float32[256 256] true
	// bias float32[256] false
}

// ExampleManager_ViewSharedSmall sends small values from one buffer and
// opens large ones to send them in pieces, as a server does: a 4 MiB cold
// value is refused without being read (ErrTooLarge), and OpenValue then
// reads it from disk as asked.
func ExampleManager_ViewSharedSmall() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	m.Store("small", []byte("hello"), tiermem.InTier(tiermem.Cold))
	m.StoreFrom("large", bytes.NewReader(make([]byte, 4<<20)), 4<<20, tiermem.InTier(tiermem.Cold))
	for _, key := range []string{"small", "large"} {
		err := m.ViewSharedSmall(key, func(value []byte, shared bool) error {
			fmt.Println(key, "viewed:", len(value), "bytes")
			return nil
		})
		if errors.Is(err, tiermem.ErrTooLarge) {
			r, err := m.OpenValue(key)
			if err != nil {
				panic(err)
			}
			fmt.Println(key, "opened:", r.Size(), "bytes, streamed:", r.Streamed())
			r.Close()
		}
	}
	// Output:
	// small viewed: 5 bytes
	// large opened: 4194304 bytes, streamed: true
}
