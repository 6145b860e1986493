package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestHostileOneTokenUnderRenames: one value (with a TTL and a pin) passes
// from name to name by Rename, and by TakeValue followed by a Store under
// the next name, while its names are moved, copied (Copy, CopyKey), read,
// peeked, touched, passes run, budgets shrink and grow, and other keys
// fill the tiers. Reads of a name give the value's exact bytes or
// ErrNotFound; afterwards exactly one name holds it, with its exact
// bytes, expiry and pin, and a reopen finds the same.
func TestHostileOneTokenUnderRenames(t *testing.T) {
	for _, c := range []struct {
		d        tiermem.Durability
		closeMid bool
	}{{tiermem.None, false}, {tiermem.Always, false}, {tiermem.None, true}, {tiermem.Always, true}} {
		d := c.d
		t.Run(fmt.Sprint(d, "/close-mid=", c.closeMid), func(t *testing.T) {
			clock := tiermem.NewFakeClock()
			dir := t.TempDir()
			o := tiermem.Options{
				Hot: tiermem.TierOptions{Size: 256 << 10}, Warm: tiermem.TierOptions{Size: 512 << 10},
				Cold: tiermem.TierOptions{Size: 16 << 20}, MigrateInterval: -1, Durability: d, PromoteHits: 2,
				DemoteAfter: -1,
			}
			tiermem.SetClock(&o, clock)
			m, err := tiermem.Open(dir, &o)
			must(t, err)
			const names = 6
			name := func(i int) string { return fmt.Sprint("n", (i%names+names)%names) }
			token := hostileValue(77, 7, 40<<10)
			must(t, m.Store(name(0), token, tiermem.InTier(tiermem.Hot), tiermem.WithTTL(time.Hour), tiermem.Pinned()))
			at, err := m.ExpireTime(name(0))
			must(t, err)
			var mu sync.Mutex
			var problems []string
			bad := func(format string, args ...any) {
				mu.Lock()
				defer mu.Unlock()
				if len(problems) < 10 {
					problems = append(problems, fmt.Sprintf(format, args...))
				}
			}
			ok := func(what string, err error) {
				if err != nil && !errors.Is(err, tiermem.ErrNotFound) && !errors.Is(err, tiermem.ErrExists) && !errors.Is(err, tiermem.ErrNoSpace) &&
					!(c.closeMid && errors.Is(err, tiermem.ErrClosed)) {
					bad("%s: %v", what, err)
				}
			}
			check := func(what string, got []byte, err error) {
				if err == nil && !bytes.Equal(got, token) {
					bad("%s read %d bytes that are not the token's", what, len(got))
				}
				ok(what, err)
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var lostInHand atomic.Bool // Close came between the taker's TakeValue and its Store
			for w := range 2 {
				hostileLoop(&wg, stop, func(n int) {
					i := n*7 + w
					ok("Rename", m.Rename(name(i), name(i+1), false))
				})
			}
			hostileLoop(&wg, stop, func(n int) {
				i := n * 5
				r, err := m.TakeValue(name(i))
				if err != nil {
					ok("TakeValue", err)
					return
				}
				got := readOpenValue(t, r)
				r.Close()
				check("TakeValue", got, nil)
				for try := 0; ; try++ {
					err := m.Store(name(i+1), got, tiermem.InTier(hostileTiers[n%3]), tiermem.WithTTL(time.Hour), tiermem.Pinned())
					if err == nil {
						return
					}
					if errors.Is(err, tiermem.ErrClosed) {
						lostInHand.Store(true) // closed while the token was in hand: it may be under no name
						return
					}
					if try == 50 {
						bad("storing the taken token again: %v", err)
						return
					}
				}
			})
			hostileLoop(&wg, stop, func(n int) {
				i := n * 3
				switch n % 4 {
				case 0:
					ok("Move", m.Move(name(i), hostileTiers[n/4%4]))
				case 1:
					ok("Copy", m.Copy(name(i), hostileTiers[n/4%4]))
				case 2:
					if err := m.CopyKey(name(i), "copy", true); err == nil {
						got, err := m.Retrieve("copy")
						check("CopyKey's copy", got, err)
						ok("Delete copy", m.Delete("copy"))
					} else {
						ok("CopyKey", err)
					}
				case 3:
					ok("Migrate", m.Migrate())
				}
			})
			hostileLoop(&wg, stop, func(n int) {
				i := n * 11
				switch n % 4 {
				case 0:
					got, err := m.Retrieve(name(i))
					check("Retrieve", got, err)
				case 1:
					r, err := m.OpenValue(name(i))
					if err == nil {
						got := readOpenValue(t, r)
						r.Close()
						check("OpenValue", got, nil)
					} else {
						ok("OpenValue", err)
					}
				case 2:
					r, err := m.PeekValue(name(i))
					if err == nil {
						got := readOpenValue(t, r)
						r.Close()
						check("PeekValue", got, nil)
					} else {
						ok("PeekValue", err)
					}
				case 3:
					ok("Touch", m.Touch(name(i)))
				}
			})
			hostileLoop(&wg, stop, func(n int) {
				ok("filler", m.Store(fmt.Sprint("f", n%40), hostileValue(n%40, n, 24<<10), tiermem.InTier(hostileTiers[n%2])))
				if n%20 == 0 {
					sizes := []int64{256 << 10, 96 << 10, 512 << 10}
					ok("SetBudget", m.SetBudget(tiermem.Tier(n/20%2), sizes[n/40%3]))
				}
				if n%50 == 25 {
					ds := []tiermem.Durability{tiermem.None, tiermem.Always, tiermem.EverySecond}
					ok("SetDurability", m.SetDurability(ds[n/50%3]))
				}
				if n%70 == 35 {
					ps := []tiermem.Policy{tiermem.PolicyLRU, tiermem.PolicyS3FIFO, tiermem.PolicyAuto}
					ok("SetTierPolicy", m.SetTierPolicy(tiermem.Tier(n/70%2), ps[n/140%3]))
				}
			})
			time.Sleep(1500 * time.Millisecond)
			if c.closeMid {
				must(t, m.Close())
			}
			close(stop)
			wg.Wait()
			for _, p := range problems {
				t.Error(p)
			}
			verify := func(when string) {
				var holders []string
				for i := range names {
					got, err := m.Retrieve(name(i))
					if errors.Is(err, tiermem.ErrNotFound) {
						continue
					}
					holders = append(holders, name(i))
					if err != nil || !bytes.Equal(got, token) {
						t.Errorf("%s: %s: %v, or not the token's bytes", when, name(i), err)
						continue
					}
					e, err := m.ExpireTime(name(i))
					must(t, err)
					p, err := m.IsPinned(name(i))
					must(t, err)
					if !e.Equal(at) || !p {
						t.Errorf("%s: %s expires at %v (want %v), pinned %v (want true)", when, name(i), e, at, p)
					}
				}
				if len(holders) != 1 && !(len(holders) == 0 && lostInHand.Load()) {
					t.Errorf("%s: the token is under %d names (%v), want exactly one", when, len(holders), holders)
				}
			}
			if !c.closeMid {
				verify("after the workers")
				must(t, m.Close())
			}
			m, err = tiermem.Open(dir, &o)
			must(t, err)
			defer m.Close()
			verify("after a reopen")
		})
	}
}
