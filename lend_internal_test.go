package tiermem

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/offheap"
)

// TestDroppedWarmReaderGivesItsMappingBack opens large warm values
// and drops the readers without Close: once the garbage collector finds
// them unreachable their LargeValues are closed (a read of one is then
// ErrClosed), so the mappings of records replaced meanwhile are unmapped.
func TestDroppedWarmReaderGivesItsMappingBack(t *testing.T) {
	m, err := Open(t.TempDir(), &Options{Hot: TierOptions{Size: 1 << 20}, Warm: TierOptions{Size: 64 << 20},
		Cold: TierOptions{Size: 1 << 30}, MigrateInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	value := make([]byte, 512<<10)
	rand.NewChaCha8([32]byte{1}).Read(value)
	var larges []*offheap.LargeValue
	for i := range 20 {
		if err := m.Store("k", value, InTier(Warm)); err != nil {
			t.Fatal(err)
		}
		v, err := m.OpenValue("k")
		if err != nil {
			t.Fatal(err)
		}
		if v.large == nil {
			t.Fatalf("round %d: a 512 KiB warm value was not opened where it lies", i)
		}
		larges = append(larges, v.large)
		v = nil
	}
	deadline := time.Now().Add(time.Minute) // a loaded CI machine runs cleanups late
	for open := len(larges); open > 0 && time.Now().Before(deadline); {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		open = 0
		for _, l := range larges {
			if _, err := l.ReadAt(make([]byte, 1), 0); !errors.Is(err, tier.ErrClosed) {
				open++
			}
		}
		if open > 0 && time.Now().After(deadline.Add(-time.Second)) {
			t.Fatalf("%d of %d LargeValues of dropped readers are still open", open, len(larges))
		}
	}
	st := m.tiers[Warm].store.(*offheap.Store).Stats()
	if st.LargeRecords != 1 {
		t.Errorf("%d large records, want 1", st.LargeRecords)
	}
	got, err := m.Retrieve("k")
	if err != nil || !bytes.Equal(got, value) {
		t.Fatalf("Retrieve: %v", err)
	}
}

// TestWarmAccountingAfterStreams: after StoreFroms into warm (large
// and small, new and replacing), OpenValue readers kept across
// replacements and Deletes, the warm store's counters are what its Scan
// adds up, and the Manager's Usage agrees.
func TestWarmAccountingAfterStreams(t *testing.T) {
	m, err := Open(t.TempDir(), &Options{Hot: TierOptions{Size: 64 << 10},
		Cold: TierOptions{Size: 1 << 30}, MigrateInterval: -1, Warm: TierOptions{Size: 32 << 20, Compress: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	var readers []*ValueReader
	for i := range 300 {
		key := string(rune('a' + rng.IntN(8)))
		n := []int{100, 5000, 64 << 10, 65 << 10, 300 << 10}[rng.IntN(5)]
		v := make([]byte, n)
		if rng.IntN(2) == 0 {
			rand.NewChaCha8([32]byte{byte(i)}).Read(v)
		} // else zeros: compressible
		switch rng.IntN(5) {
		case 0:
			m.Delete(key)
		case 1:
			if r, err := m.OpenValue(key); err == nil {
				readers = append(readers, r)
			}
		default:
			if err := m.StoreFrom(key, bytes.NewReader(v), int64(n), InTier(Warm)); err != nil {
				t.Fatal(err)
			}
		}
	}
	s := m.tiers[Warm].store.(*offheap.Store)
	var used, n int64
	s.Scan(func(_ string, _ []byte, size int64) error { used += size; n++; return nil })
	if s.Used() != used || s.Len() != n || m.Usage()[Warm].Used != used {
		t.Errorf("Used %d, Len %d, Usage %d; Scan: %d bytes, %d keys", s.Used(), s.Len(), m.Usage()[Warm].Used, used, n)
	}
	for _, r := range readers {
		r.Close()
	}
}
