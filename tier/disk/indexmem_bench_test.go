package disk_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/tiermem/tiermem/tier/disk"
)

// BenchmarkIndexMemory stores 1M keys of 16 bytes (redis-benchmark's
// key:000000000000 form) with 100-byte values, without meta and with an
// 11-byte one (a pinned value with a TTL, as the Manager writes it), and
// reports the Go heap the open store holds per key: what the cold tier
// costs in RAM for each key it keeps on disk (its index).
func BenchmarkIndexMemory(b *testing.B) {
	const keys = 1 << 20
	value := randomBytes(100, 1)
	for _, c := range []struct {
		name string
		meta []byte
	}{{"plain", nil}, {"meta11", []byte("\x11\x03expires")}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				s, err := disk.Open(b.TempDir(), nil)
				if err != nil {
					b.Fatal(err)
				}
				before := heapInUse()
				for i := range keys {
					if _, err := s.Put(fmt.Sprintf("key:%012d", i), value, c.meta); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(heapInUse()-before)/keys, "heapB/key")
				runtime.KeepAlive(s)
				s.Close()
			}
		})
	}
}

// heapInUse returns the bytes of live Go heap objects after a collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
