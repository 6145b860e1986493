package tiermem_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/tiermem/tiermem"
)

// The seed's "Memory Analytics" example: twenty matrices stored in the hot
// tier, three random reads of the earlier ones after each, then the
// analytics saved for `tiermem plot`. The seed sleeps half a second per
// step to collect a sample each; here one sample, taken when analytics
// stops, covers the run.
func ExampleManager_EnableAnalytics() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(filepath.Join(dir, "data"), exampleOptions())
	if err != nil {
		panic(err)
	}
	defer m.Close()
	if err := m.EnableAnalytics(500 * time.Millisecond); err != nil {
		panic(err)
	}

	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		data := make([]float64, 100*100)
		for j := range data {
			data[j] = rng.Float64() * float64(i)
		}
		if err := m.StoreArray(fmt.Sprintf("data_%d", i), tiermem.Float64Array(data, 100, 100), tiermem.InTier(tiermem.Hot)); err != nil {
			panic(err)
		}
		if i > 0 {
			for range 3 {
				if _, err := m.RetrieveArray(fmt.Sprintf("data_%d", rng.IntN(i))); err != nil {
					panic(err)
				}
			}
		}
	}
	m.DisableAnalytics()

	var hits, misses, stores int64
	samples := m.Analytics()
	for _, s := range samples {
		hits, misses, stores = hits+s.Hits, misses+s.Misses, stores+s.Tiers[tiermem.Hot].Stores
	}
	last := samples[len(samples)-1].Tiers[tiermem.Hot]
	fmt.Printf("reads: %d hits, %d misses; stores into hot: %d\n", hits, misses, stores)
	fmt.Printf("hot tier: %d items, %.1f%% of its budget\n", last.Items, last.Percent)

	f, err := os.Create(filepath.Join(dir, "memory_analytics.json"))
	if err != nil {
		panic(err)
	}
	defer f.Close()
	if err := m.WriteAnalytics(f); err != nil {
		panic(err)
	}
	fmt.Println("Analytics saved to memory_analytics.json: tiermem plot --from memory_analytics.json --out memory_analytics.png")
	// Output:
	// reads: 57 hits, 0 misses; stores into hot: 20
	// hot tier: 20 items, 2.4% of its budget
	// Analytics saved to memory_analytics.json: tiermem plot --from memory_analytics.json --out memory_analytics.png
}

// ExampleManager_Counts reads the running totals of hits and misses, as a
// metrics exporter does at each scrape: nothing is lost however long
// between two looks.
func ExampleManager_Counts() {
	dir := exampleDir()
	defer os.RemoveAll(dir)
	m, err := tiermem.Open(dir, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	if err := m.EnableAnalytics(time.Hour); err != nil {
		fmt.Println(err)
		return
	}
	m.Store("k", []byte("v"), tiermem.InTier(tiermem.Hot))
	for range 3 {
		m.Retrieve("k")
	}
	m.Retrieve("absent")
	c, _ := m.Counts()
	fmt.Println("hot hits:", c.Hits[tiermem.Hot], "misses:", c.Misses, "stores in hot:", c.Stores[tiermem.Hot])
	// Output:
	// hot hits: 3 misses: 1 stores in hot: 1
}
