package heap

import (
	"fmt"
	"runtime"
	"testing"
)

// liveHeap returns the bytes of live heap after a full collection.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// TestHostileUsedCountsTheTables: Used is what the hot tier's budget
// bounds, so it must count the memory a store of small entries takes,
// its tables included: 200,000 entries of a 10-byte key and an 8-byte
// value took 1.56× what Used said (3× once 84% of them were deleted),
// when an entry was charged 64 bytes for its bucket. Now the live heap
// the entries take is at most a little over Used as the tables grow, and
// at most 3/2 of their buckets' share over it once deletes drained them.
func TestHostileUsedCountsTheTables(t *testing.T) {
	const n = 200_000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%09d", i)
	}
	value := []byte("8 bytes!")
	before := liveHeap()
	s := New()
	defer s.Close()
	for _, k := range keys {
		if _, err := s.Put(k, value, nil); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string, limit float64) {
		t.Helper()
		took := liveHeap() - before
		ratio := float64(took) / float64(s.Used())
		t.Logf("%s: %d entries take %d bytes of heap, Used %d (%.2f×)", when, s.Len(), took, s.Used(), ratio)
		if ratio > limit {
			t.Errorf("%s: the entries take %.2f× the bytes Used says (%d of heap, Used %d), more than %.2f×", when, ratio, took, s.Used(), limit)
		}
	}
	check("after the Puts", 1.1)
	for i, k := range keys {
		if i%25 < 21 { // 84% of them, spread over every shard
			if _, err := s.Delete(k); err != nil {
				t.Fatal(err)
			}
		}
	}
	check("after deleting 84%", 1.25)
	for i, k := range keys {
		if i%25 >= 21 {
			if _, err := s.Delete(k); err != nil {
				t.Fatal(err)
			}
		}
	}
	if s.Used() != 0 || s.Len() != 0 {
		t.Fatalf("after deleting every key: Used %d, Len %d", s.Used(), s.Len())
	}
	if took := liveHeap() - before; took > 64<<10 {
		t.Errorf("an emptied store still takes %d bytes of heap; its shards' tables should be gone", took)
	}
}
