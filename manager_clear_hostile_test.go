package tiermem_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestHostileClearWhileKeysMove: "Clear deletes every key from every tier".
// Keys stored before Clear, that nothing stores again, must all be gone
// when it returns, even while Moves carry them between tiers (as a
// migration pass's promotions do).
func TestHostileClearWhileKeysMove(t *testing.T) {
	m := open(t, &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 4 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1,
	})
	const keys = 400
	for round := range 5 {
		for i := range keys {
			must(t, m.Store(fmt.Sprint("k", i), []byte("v"), tiermem.InTier(tiermem.Tier(1+i%2))))
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for g := range 2 {
			hostileLoop(&wg, stop, func(n int) {
				i := (n*2 + g) % keys
				m.Move(fmt.Sprint("k", i), tiermem.Tier((i+n/keys)%3)) // up and down
				time.Sleep(50 * time.Microsecond)                      // each key moves every few ms
			})
		}
		err := m.Clear()
		close(stop)
		wg.Wait()
		must(t, err)
		var left []string
		for i := range keys {
			if _, err := m.Tier(fmt.Sprint("k", i)); err == nil {
				left = append(left, fmt.Sprint("k", i))
			}
		}
		if len(left) > 0 {
			t.Fatalf("round %d: %d keys stored before Clear are still there after it returned: %v", round, len(left), left[:min(len(left), 10)])
		}
	}
}
