package tiermem_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/tier/disk"
)

// dippingDisk is the built-in cold store with a Len that reads 0 while
// dip is set: what a reader sees of tier/disk's Len in the instant its
// compaction moves a store's only key (index.relocate uncounts the record
// before it counts the copy; tier/object's setLocked does the same). The
// store's contents never change while Len dips.
type dippingDisk struct {
	*disk.Store
	dip atomic.Bool
}

func (d *dippingDisk) Len() int64 {
	if d.dip.Load() {
		return 0
	}
	return d.Store.Len()
}

func openDipping(t *testing.T) (*tiermem.Manager, *tiermem.FakeClock, *dippingDisk) {
	t.Helper()
	s, err := disk.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cold := &dippingDisk{Store: s}
	m, clock := openClocked(t, tiermem.Options{
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20, Store: cold},
	})
	return m, clock, cold
}

// TestRetrieveWhileAStoreLenDips: a key the cold store holds throughout is
// found though the store's Len reads 0 at both of the read's looks.
func TestRetrieveWhileAStoreLenDips(t *testing.T) {
	m, _, cold := openDipping(t)
	must(t, m.Store("only", []byte("v1"), tiermem.InTier(tiermem.Cold)))
	cold.dip.Store(true)
	got, err := m.Retrieve("only")
	cold.dip.Store(false)
	if err != nil || string(got) != "v1" {
		t.Fatalf("Retrieve while the cold store's Len dipped: %q, %v", got, err)
	}
}

// TestStoreReplacesACopyWhoseStoreLenDips: a Store to the hot tier, while
// the cold store's Len dips, must still remove the cold copy it replaces;
// else the old value comes back once the new one expires.
func TestStoreReplacesACopyWhoseStoreLenDips(t *testing.T) {
	m, clock, cold := openDipping(t)
	must(t, m.Store("k", []byte("old"), tiermem.InTier(tiermem.Cold)))
	cold.dip.Store(true)
	must(t, m.Store("k", []byte("new"), tiermem.InTier(tiermem.Hot), tiermem.WithTTL(time.Minute)))
	cold.dip.Store(false)
	clock.Advance(2 * time.Minute)
	for range 2 { // the first read finds the new value expired and deletes it
		if got, err := m.Retrieve("k"); !errors.Is(err, tiermem.ErrNotFound) {
			t.Fatalf("after the new value expired: %q, %v; want ErrNotFound", got, err)
		}
	}
}
