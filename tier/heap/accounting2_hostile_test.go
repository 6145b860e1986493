package heap

import (
	"fmt"
	"runtime"
	"testing"
)

// heapPerUsed puts n entries with put, then returns the live heap they
// added divided by Used, the heap they added, and Used.
func heapPerUsed(t *testing.T, s *Store, n int, put func(key string) error) (float64, int64, int64) {
	t.Helper()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%012d", i) // 16 bytes
	}
	before := liveHeap()
	for _, k := range keys {
		if err := put(k); err != nil {
			t.Fatal(err)
		}
	}
	took := liveHeap() - before
	runtime.KeepAlive(keys)
	return float64(took) / float64(s.Used()), took, s.Used()
}

// TestHostileUsedCountsTheAllocatorsSizeClass: Used is the memory the
// entries hold, the allocator's rounding included: an entry is charged its
// whole allocation, rounded up to the size class (or to whole pages above
// 32 KiB), which Cost predicts (allocSize). Before, an entry was charged
// the bytes asked for, and 4 KiB values took 1.17× Used on the heap (4120
// bytes become 4864), values just over 32 KiB 1.25× (40 KiB).
func TestHostileUsedCountsTheAllocatorsSizeClass(t *testing.T) {
	for _, size := range []int{4096, 32 << 10} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			s := New()
			defer s.Close()
			value := make([]byte, size)
			ratio, took, used := heapPerUsed(t, s, 2000, func(k string) error {
				charged, err := s.Put(k, value, nil)
				if cost := s.Cost(len(k), len(value), 0); err == nil && charged != cost {
					t.Fatalf("Put charged %d, Cost said %d", charged, cost)
				}
				return err
			})
			t.Logf("%d-byte values: heap %d, Used %d (%.2f×)", size, took, used, ratio)
			if ratio > 1.05 {
				t.Errorf("%d-byte values take %.2f× the bytes Used says (heap %d, Used %d)", size, ratio, took, used)
			}
		})
	}
}

// TestHostileUsedAfterSetMetaShrinks: SetMeta with much shorter meta
// moves the entry to an allocation of its new size (the old one is let go),
// as a replacing Put does, and an entry that keeps its allocation is
// charged all of it. Before, SetMeta wrote the shorter meta in place and
// lowered Used by the difference while the entry kept its whole allocation:
// the heap stayed at 14× Used.
func TestHostileUsedAfterSetMetaShrinks(t *testing.T) {
	s := New()
	defer s.Close()
	value := make([]byte, 100)
	meta := make([]byte, 3000)
	var keys []string
	ratio, took, used := heapPerUsed(t, s, 2000, func(k string) error {
		keys = append(keys, k)
		_, err := s.Put(k, value, meta)
		return err
	})
	t.Logf("after Put: heap %d, Used %d (%.2f×)", took, used, ratio)
	base := liveHeap() - took
	for _, k := range keys {
		charged, err := s.SetMeta(k, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		if size, _ := s.Size(k); charged != size || charged != s.Cost(len(k), len(value), 0) {
			t.Fatalf("SetMeta charged %d; Size says %d, Cost %d", charged, size, s.Cost(len(k), len(value), 0))
		}
	}
	took = liveHeap() - base
	ratio = float64(took) / float64(s.Used())
	t.Logf("after SetMeta(nil): heap %d, Used %d (%.2f×)", took, s.Used(), ratio)
	if ratio > 1.25 {
		t.Errorf("after SetMeta dropped the meta, the entries take %.2f× the bytes Used says (heap %d, Used %d)", ratio, took, s.Used())
	}
}

// TestHostileUsedAfterCommitOfShortMeta: Prepare(size, metaLen) allocates
// room for metaLen bytes of meta, and the entry Commit stores is charged
// that allocation, as Cost(size, metaLen) says, whatever meta it is given.
// Before, a Commit with less meta charged only what it wrote, and the heap
// held 14× Used.
func TestHostileUsedAfterCommitOfShortMeta(t *testing.T) {
	s := New()
	defer s.Close()
	ratio, took, used := heapPerUsed(t, s, 2000, func(k string) error {
		p, err := s.Prepare(k, 100, 3000)
		if err != nil {
			return err
		}
		charged, err := p.Commit(nil)
		if cost := s.Cost(len(k), 100, 3000); err == nil && charged != cost {
			t.Fatalf("Commit charged %d, Cost of the prepared lengths %d", charged, cost)
		}
		return err
	})
	t.Logf("heap %d, Used %d (%.2f×)", took, used, ratio)
	if ratio > 1.25 {
		t.Errorf("committed entries take %.2f× the bytes Used says (heap %d, Used %d)", ratio, took, used)
	}
}
