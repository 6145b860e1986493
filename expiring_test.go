package tiermem_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestExpiringUnderRacingStores: goroutines give their keys a TTL, take it
// away (a Store without one, Persist), store them again and delete them,
// starting from no key with a TTL (where a Store forgets its key's TTL
// without a lock): Expiring counts exactly the keys left with a TTL, and a
// migration pass after they ran out removes exactly those.
func TestExpiringUnderRacingStores(t *testing.T) {
	m, clock := openClocked(t, tiermem.Options{})
	const workers, keys = 4, 16
	// state: 0 absent, 1 stored without a TTL, 2 with one.
	state := make([][keys]int, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range 2000 {
				k := r.IntN(keys)
				key := fmt.Sprint("w", w, "-k", k)
				var err error
				switch r.IntN(5) {
				case 0:
					err = m.Store(key, []byte("v"), tiermem.WithTTL(time.Hour))
					state[w][k] = 2
				case 1:
					err = m.Store(key, []byte("v"))
					state[w][k] = 1
				case 2:
					if _, err = m.Persist(key); err == nil {
						state[w][k] = 1
					}
				case 3:
					if err = m.Expire(key, time.Hour); err == nil {
						state[w][k] = 2
					}
				default:
					err = m.Delete(key)
					state[w][k] = 0
				}
				if errors.Is(err, tiermem.ErrNotFound) && state[w][k] == 0 {
					err = nil
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	want := 0
	for w := range workers {
		for k := range keys {
			if state[w][k] == 2 {
				want++
			}
		}
	}
	if got := m.Expiring(); got != int64(want) {
		t.Fatalf("Expiring = %d, want %d", got, want)
	}
	clock.Advance(2 * time.Hour)
	must(t, m.Migrate())
	for w := range workers {
		for k := range keys {
			key := fmt.Sprint("w", w, "-k", k)
			if _, err := m.Retrieve(key); (state[w][k] == 1) != (err == nil) {
				t.Errorf("%s: state %d (1: stored without a TTL), and after the TTLs ran out Retrieve says %v", key, state[w][k], err)
			}
		}
	}
	if got := m.Expiring(); got != 0 {
		t.Errorf("Expiring = %d after the pass", got)
	}
}
