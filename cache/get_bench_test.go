package cache

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// getKeys is the number of keys of BenchmarkGet and BenchmarkTableHash.
const getKeys = 1 << 16

// pairKey is a struct key, hashed by maphash.Comparable.
type pairKey struct{ a, b uint32 }

// BenchmarkGet measures hits of a full Cache of 64k keys, in a random order,
// for integer keys, short and 64-byte string keys and struct keys (the table
// hashes all but integers with hash/maphash and a per-cache seed). Besides
// wall time it reports the process's CPU time per Get, maintenance included:
// the steadier figure on a loaded machine.
func BenchmarkGet(b *testing.B) {
	b.Run("uint64", func(b *testing.B) { benchGet(b, uint64Key) })
	b.Run("string10", func(b *testing.B) { benchGet(b, string10Key) })
	b.Run("string64", func(b *testing.B) { benchGet(b, string64Key) })
	b.Run("struct", func(b *testing.B) { benchGet(b, structKey) })
}

// BenchmarkTableHash measures the table hash alone, on the keys of
// BenchmarkGet in the order they were made, so that their bytes stream
// through the CPU's caches rather than miss them.
func BenchmarkTableHash(b *testing.B) {
	b.Run("uint64", func(b *testing.B) { benchHash(b, uint64Key) })
	b.Run("string10", func(b *testing.B) { benchHash(b, string10Key) })
	b.Run("string64", func(b *testing.B) { benchHash(b, string64Key) })
	b.Run("struct", func(b *testing.B) { benchHash(b, structKey) })
}

func uint64Key(i int) uint64   { return uint64(i) }
func string10Key(i int) string { return fmt.Sprintf("key:%06d", i) }
func string64Key(i int) string { return fmt.Sprintf("%064d", i) }
func structKey(i int) pairKey  { return pairKey{uint32(i), uint32(i >> 3)} }

// benchKeys returns getKeys keys made by key, in the order made.
func benchKeys[K comparable](key func(int) K) []K {
	keys := make([]K, getKeys)
	for i := range keys {
		keys[i] = key(i)
	}
	return keys
}

// shuffledKeys returns getKeys keys made by key, in a random order.
func shuffledKeys[K comparable](key func(int) K) []K {
	keys := benchKeys(key)
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	return keys
}

func benchGet[K comparable](b *testing.B, key func(int) K) {
	c, err := New(&Options[K, uint64]{MaxWeight: getKeys}) // as many as New presizes the table for
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	keys := shuffledKeys(key)
	for i, k := range keys {
		if err := c.Set(k, uint64(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	cpu := processCPU()
	for i := 0; b.Loop(); i++ {
		if _, ok := c.Get(keys[i&(getKeys-1)]); !ok {
			b.Fatal("miss")
		}
	}
	b.ReportMetric(float64((processCPU()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

func benchHash[K comparable](b *testing.B, key func(int) K) {
	c, err := New(&Options[K, uint64]{SweepInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	keys := benchKeys(key)
	var sum uint64
	for i := 0; b.Loop(); i++ {
		sum += c.hash(keys[i&(getKeys-1)])
	}
	if sum == 1 {
		b.Log(sum) // keeps sum alive
	}
}

// processCPU returns the CPU time the process has used, user and system.
func processCPU() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
