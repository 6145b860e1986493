package tiermem_test

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/vfs"
)

// TestHostileFailedExpiryIsRetried: expire's comment says "a failed delete
// leaves it, and its expiry, for the next pass", and Delete "returns
// ErrNotFound if no tier held it, or its TTL had run out". A pass whose
// delete of an expired value fails (the cold log's write fails) must leave
// the value for the next pass to remove, and a Delete of it must still say
// ErrNotFound.
func TestHostileFailedExpiryIsRetried(t *testing.T) {
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Cold} {
		t.Run(tr.String(), func(t *testing.T) {
			clock := tiermem.NewFakeClock()
			fault := vfs.NewFault(vfs.Default)
			o := tiermem.Options{MigrateInterval: -1, Durability: tiermem.Always, DemoteAfter: -1,
				Hot: tiermem.TierOptions{Size: 4 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}}
			tiermem.SetColdFS(&o, fault)
			tiermem.SetClock(&o, clock)
			m := open(t, &o)
			must(t, m.Store("k", hostileValue(1, 0, 5000), tiermem.InTier(tr), tiermem.WithTTL(time.Second)))
			clock.Advance(2 * time.Second)
			fault.FailWrites(syscall.EIO)
			passErr := m.Migrate()
			fault.FailWrites(nil)
			must(t, m.Migrate())
			must(t, m.Migrate())
			if n := m.Usage()[tiermem.Cold].Items; n != 0 {
				t.Errorf("the expired value is still in the cold tier (%d items) after two passes that could delete it (the failed pass returned %v)", n, passErr)
			}
			if err := m.Delete("k"); !errors.Is(err, tiermem.ErrNotFound) {
				t.Errorf("Delete of a key whose TTL ran out = %v, want ErrNotFound", err)
			}
		})
	}
}
