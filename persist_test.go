package tiermem_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/vfs"
)

// TestFailedCloseHalfwayTakesBackOnlyItsCopies fills the disk while Close
// writes hundreds of memory values to cold: Close fails with ErrNoSpace,
// the copies it wrote are taken back, a copy the cold tier held before
// (Copy) stays, every value reads back, and once space returns Close
// succeeds and the next Open finds every value.
func TestFailedCloseHalfwayTakesBackOnlyItsCopies(t *testing.T) {
	fault := vfs.NewFault(vfs.Default)
	o := tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 1 << 20},
		Warm: tiermem.TierOptions{Size: 64 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}}
	tiermem.SetColdFS(&o, fault)
	dir := t.TempDir()
	m, err := tiermem.Open(dir, &o)
	must(t, err)
	var keys []string
	for i := range 2000 {
		tr := tiermem.Warm
		if i%10 == 0 {
			tr = tiermem.Hot
		}
		key := fmt.Sprintf("k%04d", i)
		must(t, m.Store(key, valueFor(key), tiermem.InTier(tr)))
		keys = append(keys, key)
	}
	for _, key := range keys[:20] { // hot and warm keys with a copy in cold
		must(t, m.Copy(key, tiermem.Cold))
	}
	for i := range 10 {
		key := fmt.Sprintf("cold%d", i)
		must(t, m.Store(key, valueFor(key), tiermem.InTier(tiermem.Cold)))
		keys = append(keys, key)
	}
	coldBefore := m.Usage()[tiermem.Cold].Items
	if coldBefore != 30 {
		t.Fatalf("the cold tier holds %d keys before Close, want 30", coldBefore)
	}
	fault.SetSpace(256 << 10) // a few hundred of the 2000 values
	if err := m.Close(); !errors.Is(err, tiermem.ErrNoSpace) {
		t.Fatalf("Close on a disk that fills = %v, want ErrNoSpace", err)
	}
	checkKeys(t, m, keys)
	if got := m.Usage()[tiermem.Cold].Items; got != coldBefore {
		t.Errorf("after the failed Close the cold tier holds %d keys, want the %d it held", got, coldBefore)
	}
	for _, key := range keys[:20] {
		if tr, err := m.Tier(key); err != nil || tr == tiermem.Cold {
			t.Fatalf("%q is in %v (%v) after the failed Close, want a memory tier", key, tr, err)
		}
	}
	fault.SetSpace(-1)
	must(t, m.Close())
	tiermem.SetColdFS(&o, vfs.Default)
	m, err = tiermem.Open(dir, &o)
	must(t, err)
	defer m.Close()
	checkKeys(t, m, keys)
	if n, err := m.Len(); err != nil || n != int64(len(keys)) {
		t.Errorf("after reopening: %d keys (%v), want %d", n, err, len(keys))
	}
}
