package offheap_test

import (
	"testing"

	"github.com/tiermem/tiermem/tier/offheap"
)

// TestHostileCostBoundsCharges sweeps sizes around the slab's classes and
// the large-record boundary: Put, Prepare+Commit and Size never exceed Cost.
func TestHostileCostBoundsCharges(t *testing.T) {
	s, err := offheap.New(&offheap.Options{Capacity: 256 << 20, MaxSmall: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fails := 0
	for _, keyLen := range []int{1, 7, 255, 256, 300} {
		key := string(make([]byte, keyLen))
		for _, metaLen := range []int{0, 1, 255, 256, 1000} {
			for size := 0; size < 10000; size += 1 + size/50 {
				cost := s.Cost(keyLen, size, metaLen)
				c1, err := s.Put(key, make([]byte, size), make([]byte, metaLen))
				if err != nil {
					t.Fatal(err)
				}
				sz, _ := s.Size(key)
				p, err := s.Prepare(key, size, metaLen)
				if err != nil {
					t.Fatal(err)
				}
				c2, err := p.Commit(make([]byte, metaLen))
				if err != nil {
					t.Fatal(err)
				}
				sz2, _ := s.Size(key)
				if c1 > cost || c2 > cost || sz != c1 || sz2 != c2 {
					if fails++; fails < 4 {
						t.Errorf("key %d meta %d value %d: Cost %d, Put %d (Size %d), Commit %d (Size %d)", keyLen, metaLen, size, cost, c1, sz, c2, sz2)
					}
				}
			}
		}
	}
	var sum int64
	s.Scan(func(_ string, _ []byte, n int64) error { sum += n; return nil })
	if sum != s.Used() {
		t.Errorf("Used %d, scan %d", s.Used(), sum)
	}
}
