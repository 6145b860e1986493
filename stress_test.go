package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestTieringUnderLoad runs writers, readers (through the byte-key
// variants, over buffers they rewrite) and migration passes at once, on
// budgets small enough that keys are demoted for room and promoted for
// reads all along, under CLOCK in the hot tier: every key stays readable,
// and no reader sees a key's version go back.
func TestTieringUnderLoad(t *testing.T) {
	for _, policy := range []tiermem.Policy{tiermem.PolicyClock, tiermem.PolicyAuto} {
		t.Run(fmt.Sprint(policy), func(t *testing.T) {
			m, clock := openClocked(t, tiermem.Options{
				Hot:         tiermem.TierOptions{Size: 64 << 10, Policy: policy},
				Warm:        tiermem.TierOptions{Size: 256 << 10},
				Cold:        tiermem.TierOptions{Size: 64 << 20},
				PromoteHits: 2, DemoteAfter: time.Second,
			})
			const keys = 300
			value := func(k, v int) []byte {
				return append([]byte(strconv.Itoa(v)+":"), bytes.Repeat([]byte{byte(k)}, 200+k%700)...)
			}
			for k := range keys {
				must(t, m.Store(fmt.Sprint("key", k), value(k, 0)))
			}
			var stop atomic.Bool
			var wg sync.WaitGroup
			errs := make(chan error, 16)
			report := func(err error) {
				select {
				case errs <- err:
				default:
				}
				stop.Store(true)
			}
			rounds := 1500
			if testing.Short() {
				rounds = 500
			}
			var writes sync.WaitGroup
			for g := range 2 {
				writes.Go(func() {
					key := make([]byte, 0, 16)
					for i := 1; i <= rounds && !stop.Load(); i++ {
						k := (i*7 + g) % keys
						if k%2 != g {
							continue // one writer a key, so versions only grow
						}
						key = fmt.Appendf(key[:0], "key%d", k)
						if err := m.StoreBytes(key, value(k, i)); err != nil {
							report(fmt.Errorf("StoreBytes key%d: %v", k, err))
							return
						}
					}
				})
			}
			for r := range 2 {
				wg.Go(func() {
					last := make([]int, keys)
					key := make([]byte, 0, 16)
					var dst []byte
					for i := 0; !stop.Load(); i++ {
						k := (i*13 + r*5) % keys
						if i%3 == 0 {
							k %= 20 // a few hot keys, read often enough to earn promotion
						}
						key = fmt.Appendf(key[:0], "key%d", k)
						var err error
						dst, err = m.RetrieveAppendBytes(dst[:0], key)
						if err != nil {
							report(fmt.Errorf("reader %d: key%d: %v", r, k, err))
							return
						}
						v, rest, ok := bytes.Cut(dst, []byte(":"))
						n, perr := strconv.Atoi(string(v))
						if !ok || perr != nil || n < last[k] || len(rest) != 200+k%700 || (len(rest) > 0 && rest[0] != byte(k)) {
							report(fmt.Errorf("reader %d: key%d read version %q after %d", r, k, v, last[k]))
							return
						}
						last[k] = n
					}
				})
			}
			wg.Go(func() {
				for !stop.Load() {
					clock.Advance(300 * time.Millisecond)
					if err := m.Migrate(); err != nil && !errors.Is(err, tiermem.ErrNoSpace) {
						report(fmt.Errorf("Migrate: %v", err))
						return
					}
				}
			})
			writes.Wait()
			stop.Store(true)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			u := m.Usage()
			if n := u[tiermem.Hot].Items + u[tiermem.Warm].Items + u[tiermem.Cold].Items; n != keys {
				t.Errorf("the tiers hold %d keys, want %d (%+v)", n, keys, u)
			}
			t.Logf("%+v", m.Stats())
		})
	}
}
