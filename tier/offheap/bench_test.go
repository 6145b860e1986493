package offheap_test

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/tiermem/tiermem/tier/offheap"
)

// benchKeys is the number of keys the benchmarks load: 16-byte keys and
// 100-byte values, the shape of benchmarks/kv.
const benchKeys = 1 << 18

func loaded(b *testing.B) *offheap.Store {
	b.Helper()
	s, err := offheap.New(&offheap.Options{Capacity: 256 << 20})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	key, value := make([]byte, 16), make([]byte, 100)
	for i := range uint64(benchKeys) {
		if _, err := s.Put(benchKey(key, i), value, nil); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// benchKey writes key number i into key and returns it as a string over
// key's bytes (the store copies what it keeps).
func benchKey(key []byte, i uint64) string {
	copy(key, "k:")
	binary.BigEndian.PutUint64(key[8:], i*0x9e3779b97f4a7c15)
	return string(key) // 16 bytes: on the stack, no allocation
}

// BenchmarkPut stores new keys, one goroutine.
func BenchmarkPut(b *testing.B) {
	s, err := offheap.New(&offheap.Options{Capacity: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	key, value := make([]byte, 16), make([]byte, 100)
	b.ReportAllocs()
	b.SetBytes(116)
	for i := 0; b.Loop(); i++ {
		if _, err := s.Put(benchKey(key, uint64(i)), value, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMixedParallel runs 80% Gets and 20% Puts that replace values of
// the same size, over benchKeys keys, from every goroutine.
func BenchmarkMixedParallel(b *testing.B) {
	for _, sets := range []int{0, 20, 100} {
		b.Run(fmt.Sprintf("sets=%d%%", sets), func(b *testing.B) {
			s := loaded(b)
			var seed atomic.Uint64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				r := seed.Add(1) * 0x5851f42d4c957f2d
				key, value, dst := make([]byte, 16), make([]byte, 100), make([]byte, 0, 128)
				for pb.Next() {
					r = r*6364136223846793005 + 1442695040888963407
					k := benchKey(key, (r>>33)%benchKeys)
					if int(r>>16%100) < sets {
						if _, err := s.Put(k, value, nil); err != nil {
							b.Fatal(err)
						}
						continue
					}
					var err error
					if dst, err = s.Get(k, dst[:0]); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkDeleteAbsentParallel runs Gets of present keys and Deletes of
// absent ones, half and half, from every goroutine: what the Manager does
// to the warm tier while it stores keys in another tier.
func BenchmarkDeleteAbsentParallel(b *testing.B) {
	s := loaded(b)
	var seed atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := seed.Add(1) * 0x5851f42d4c957f2d
		key, dst := make([]byte, 16), make([]byte, 0, 128)
		for pb.Next() {
			r = r*6364136223846793005 + 1442695040888963407
			i := (r >> 33) % benchKeys
			if r>>16&1 == 0 {
				if _, err := s.Delete(benchKey(key, i+benchKeys)); err == nil {
					b.Fatal("deleted a key never stored")
				}
				continue
			}
			var err error
			if dst, err = s.Get(benchKey(key, i), dst[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
