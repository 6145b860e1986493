package tiermem_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestHostilePinHoldsWhileItsTierDemotes: "no migration pass and no need
// for room demotes it" once Pin returns, also in warm and in cold (whose
// victims go to glacier in batches), with and without a durable log
// (where warm's victims only drop their memory copy), while Stores keep
// making room there and passes run.
func TestHostilePinHoldsWhileItsTierDemotes(t *testing.T) {
	for _, d := range []tiermem.Durability{tiermem.None, tiermem.Always} {
		for _, tr := range []tiermem.Tier{tiermem.Warm, tiermem.Cold} {
			t.Run(fmt.Sprint(d, "/", tr), func(t *testing.T) {
				m := open(t, &tiermem.Options{
					Hot: tiermem.TierOptions{Size: 256 << 10}, Warm: tiermem.TierOptions{Size: 512 << 10},
					Cold: tiermem.TierOptions{Size: 2 << 20}, MigrateInterval: -1, Durability: d,
				})
				stop := make(chan struct{})
				var wg sync.WaitGroup
				for g := range 2 {
					hostileLoop(&wg, stop, func(n int) {
						err := m.Store(fmt.Sprintf("f%d-%d", g, n%300), hostileValue(g, n, 12<<10), tiermem.InTier(tr))
						if err != nil && !errors.Is(err, tiermem.ErrNoSpace) {
							t.Errorf("Store: %v", err)
						}
						if n%50 == 0 {
							if err := m.Migrate(); err != nil {
								t.Errorf("Migrate: %v", err)
							}
						}
					})
				}
				stopAll := sync.OnceFunc(func() { close(stop); wg.Wait() })
				defer stopAll()
				pinnedAt := map[string]tiermem.Tier{}
				deadline := time.Now().Add(1500 * time.Millisecond)
				for r := 0; time.Now().Before(deadline) && r < 40; r++ {
					for i := range 4 {
						key := fmt.Sprintf("p%d-%d", r, i)
						if err := m.Store(key, hostileValue(r, i, 6<<10), tiermem.InTier(tr)); err != nil {
							continue
						}
						time.Sleep(time.Duration(i) * 200 * time.Microsecond)
						if err := m.Pin(key); err != nil {
							t.Fatalf("Pin: %v", err)
						}
						pinnedAt[key] = tierOf(t, m, key)
					}
				}
				time.Sleep(100 * time.Millisecond)
				stopAll()
				moved := 0
				for key, was := range pinnedAt {
					if got := tierOf(t, m, key); got != was {
						if moved++; moved <= 5 {
							t.Errorf("%q was pinned in %v and then demoted to %v", key, was, got)
						}
					}
				}
				if moved > 5 {
					t.Errorf("... %d pinned keys of %d moved in all", moved, len(pinnedAt))
				}
			})
		}
	}
}
