package cluster_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/cluster"
)

// benchBytes is the size of the benchmarks' value: TIERMEM_CLUSTER_BENCH_MB
// megabytes (10^6 bytes; the seed's 10000×10000 float64 array is 800), 64 by
// default so that `make bench` stays short.
func benchBytes(b *testing.B) int {
	mb := 64
	if s := os.Getenv("TIERMEM_CLUSTER_BENCH_MB"); s != "" {
		var err error
		if mb, err = strconv.Atoi(s); err != nil || mb <= 0 {
			b.Fatalf("TIERMEM_CLUSTER_BENCH_MB=%q", s)
		}
	}
	return mb * 1000 * 1000
}

// benchArray returns the benchmarks' value as a float64 array.
func benchArray(b *testing.B) tiermem.Array {
	n := benchBytes(b) / 8
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = float64(i)
	}
	return tiermem.Float64Array(xs, n)
}

// BenchmarkStore stores the array with ReplicationFactor 2 (the seed's),
// then 1: chunks, checksums, manifest and WAIT.
func BenchmarkStore(b *testing.B) {
	a := benchArray(b)
	for _, rf := range []int{1, 2} {
		b.Run(fmt.Sprintf("RF=%d", rf), func(b *testing.B) {
			c := open(b, cluster.Options{ReplicationFactor: rf})
			b.SetBytes(int64(len(a.Data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.StoreArray(context.Background(), "bench/array", a); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRetrieve reads the array back, checking every chunk.
func BenchmarkRetrieve(b *testing.B) {
	a := benchArray(b)
	for _, replicas := range []bool{false, true} {
		b.Run(fmt.Sprintf("ReadFromReplicas=%v", replicas), func(b *testing.B) {
			c := open(b, cluster.Options{ReadFromReplicas: replicas})
			if err := c.StoreArray(context.Background(), "bench/array", a); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(a.Data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.RetrieveArray(context.Background(), "bench/array"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// baselineKeys returns the keys of the baseline's 4 MiB values.
func baselineKeys(n int) []string {
	keys := make([]string, (n+4<<20-1)/(4<<20))
	for i := range keys {
		keys[i] = "bench/baseline/" + strconv.Itoa(i)
	}
	return keys
}

// BenchmarkBaselineSet is the baseline of BenchmarkStore: plain SETs of the
// same bytes in 4 MiB values, in one pipeline through the same go-redis
// client (which sends each node its share in parallel), no checksum, no
// manifest, no WAIT.
func BenchmarkBaselineSet(b *testing.B) {
	a := benchArray(b)
	c := open(b, cluster.Options{})
	keys := baselineKeys(len(a.Data))
	b.SetBytes(int64(len(a.Data)))
	b.ReportAllocs()
	for b.Loop() {
		baselineSet(b, c.Client(), keys, a.Data)
	}
}

func baselineSet(b *testing.B, cl *redis.ClusterClient, keys []string, data []byte) {
	_, err := cl.Pipelined(context.Background(), func(p redis.Pipeliner) error {
		for i, k := range keys {
			p.Set(context.Background(), k, data[i*4<<20:min(len(data), (i+1)*4<<20)], 0)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkBaselineGet is the baseline of BenchmarkRetrieve: plain GETs of
// the 4 MiB values in one pipeline, copied into one buffer as Retrieve does.
func BenchmarkBaselineGet(b *testing.B) {
	a := benchArray(b)
	c := open(b, cluster.Options{})
	keys := baselineKeys(len(a.Data))
	baselineSet(b, c.Client(), keys, a.Data)
	b.SetBytes(int64(len(a.Data)))
	b.ReportAllocs()
	for b.Loop() {
		baselineGet(b, c.Client(), keys, len(a.Data))
	}
}

// BenchmarkRetrieveNear reads the array through a near cache that holds
// it: one manifest read from the cluster, the bytes from the local Manager.
func BenchmarkRetrieveNear(b *testing.B) {
	a := benchArray(b)
	m := nearManager(b)
	c := open(b, cluster.Options{NearCache: m})
	if err := c.StoreArray(context.Background(), "bench/array", a); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(a.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.RetrieveArray(context.Background(), "bench/array"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkManagerRetrieve is the baseline of BenchmarkRetrieveNear: the
// local Manager's Retrieve of the same bytes.
func BenchmarkManagerRetrieve(b *testing.B) {
	a := benchArray(b)
	m := nearManager(b)
	if err := m.Store("bench/array", a.Data); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(a.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Retrieve("bench/array"); err != nil {
			b.Fatal(err)
		}
	}
}

// nearManager opens a Manager whose hot tier holds the benchmark's value.
func nearManager(b *testing.B) *tiermem.Manager {
	m, err := tiermem.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return m
}
