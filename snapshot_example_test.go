package tiermem_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/tiermem/tiermem"
)

// The seed's "Memory Snapshots" example: store five matrices, snapshot,
// clear, miss, restore, and every matrix is back with the same mean.
func ExampleManager_Snapshot() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(filepath.Join(dir, "data"), exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()

	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 5 {
		data := make([]float64, 100*100)
		for j := range data {
			data[j] = rng.Float64() * float64(i)
		}
		if err := m.StoreArray(fmt.Sprintf("matrix_%d", i), tiermem.Float64Array(data, 100, 100), tiermem.InTier(tiermem.Hot)); err != nil {
			panic(err)
		}
	}

	path := filepath.Join(dir, "memory_snapshot.bin")
	info, err := m.Snapshot(path, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("Created snapshot at %s: %d keys, %d in hot\n", filepath.Base(info.Path), info.Keys, info.Tiers[tiermem.Hot].Keys)

	if err := m.Clear(); err != nil {
		panic(err)
	}
	if _, err := m.RetrieveArray("matrix_0"); errors.Is(err, tiermem.ErrNotFound) {
		fmt.Println("Data was successfully cleared")
	}

	if _, err := m.Restore(path, nil); err != nil {
		panic(err)
	}
	fmt.Println("Restored from snapshot")
	for i := range 5 {
		a, err := m.RetrieveArray(fmt.Sprintf("matrix_%d", i))
		if err != nil {
			panic(err)
		}
		xs, _ := a.Float64s()
		sum := 0.0
		for _, x := range xs {
			sum += x
		}
		t, _ := m.Tier(fmt.Sprintf("matrix_%d", i))
		fmt.Printf("Retrieved matrix_%d, mean value: %.2f, in %s\n", i, sum/float64(len(xs)), t)
	}
	// Output:
	// Created snapshot at memory_snapshot.bin: 5 keys, 5 in hot
	// Data was successfully cleared
	// Restored from snapshot
	// Retrieved matrix_0, mean value: 0.00, in hot
	// Retrieved matrix_1, mean value: 0.50, in hot
	// Retrieved matrix_2, mean value: 0.99, in hot
	// Retrieved matrix_3, mean value: 1.51, in hot
	// Retrieved matrix_4, mean value: 2.00, in hot
}

// A key can be read from a snapshot file without restoring it.
func ExampleOpenSnapshot() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(filepath.Join(dir, "data"), exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	m.Store("config", []byte("v1"), tiermem.InTier(tiermem.Warm), tiermem.Pinned())
	path := filepath.Join(dir, "app.snapshot")
	if _, err := m.Snapshot(path, nil); err != nil {
		panic(err)
	}
	m.Store("config", []byte("v2")) // the snapshot keeps v1

	f, err := tiermem.OpenSnapshot(path)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	e, err := f.Lookup("config")
	if err != nil {
		panic(err)
	}
	fmt.Println(string(e.Value), e.Tier, e.Pinned, f.Info().Keys)
	// Output: v1 warm true 1
}

// RestoreMerge keeps the keys the snapshot lacks.
func ExampleManager_Restore() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(filepath.Join(dir, "data"), exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	m.Store("a", []byte("1"))
	path := filepath.Join(dir, "a.snapshot")
	if _, err := m.Snapshot(path, nil); err != nil {
		panic(err)
	}
	m.Store("a", []byte("changed"))
	m.Store("b", []byte("2"))

	r, err := m.Restore(path, &tiermem.RestoreOptions{Mode: tiermem.RestoreMerge})
	if err != nil {
		panic(err)
	}
	a, _ := m.Retrieve("a")
	b, _ := m.Retrieve("b")
	fmt.Println(r.Keys, string(a), string(b))
	// Output: 1 1 2
}
