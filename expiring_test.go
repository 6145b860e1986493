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

// TestReadThatExpiresForgets: a read that finds a key's TTL run out
// deletes it from every tier it was in, and Expiring does not count it
// (nor any key whose TTL ran out, read or not); a key stored again
// meanwhile keeps its new value and TTL.
func TestReadThatExpiresForgets(t *testing.T) {
	m, clock := openClocked(t, tiermem.Options{MigrateInterval: -1, Durability: tiermem.Always})
	for i, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		must(t, m.Store(fmt.Sprint("k", i), []byte("v"), tiermem.InTier(tr), tiermem.WithTTL(time.Minute)))
	}
	must(t, m.Store("later", []byte("v"), tiermem.WithTTL(time.Hour)))
	clock.Advance(2 * time.Minute)
	for i := range 3 {
		key := fmt.Sprint("k", i)
		if _, err := m.Retrieve(key); !errors.Is(err, tiermem.ErrNotFound) {
			t.Fatalf("Retrieve(%s) after its TTL = %v, want ErrNotFound", key, err)
		}
		if got, want := m.Expiring(), 1; got != int64(want) {
			t.Errorf("after reading %s expired: Expiring() = %d, want %d", key, got, want)
		}
	}
	if n, err := m.Len(); err != nil || n != 1 {
		t.Errorf("Len() = %d, %v; want 1, the key with an hour left", n, err)
	}
}

// TestReadExpiryRacingAStoreKeepsTheNewTTL: a read that expires a key races with a
// Store that writes it again with a new TTL, in each tier. Whatever order they take, a key that exists afterwards is
// counted by Expiring and deleted by the migration pass after its new TTL.
func TestReadExpiryRacingAStoreKeepsTheNewTTL(t *testing.T) {
	m, clock := openClocked(t, tiermem.Options{})
	tiers := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold}
	for i := range 300 {
		key := fmt.Sprint("e", i%7)
		tr := tiers[i%3]
		must(t, m.Store(key, []byte("old"), tiermem.InTier(tr), tiermem.WithTTL(time.Second)))
		clock.Advance(2 * time.Second)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, err := m.Retrieve(key); err != nil && !errors.Is(err, tiermem.ErrNotFound) {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			must(t, m.Store(key, []byte("new"), tiermem.InTier(tiers[(i+1)%3]), tiermem.WithTTL(time.Minute)))
		}()
		wg.Wait()
		if got := m.Expiring(); got != 1 {
			t.Fatalf("round %d: Expiring = %d with %s stored again with a TTL", i, got, key)
		}
		clock.Advance(2 * time.Minute)
		must(t, m.Migrate())
		if _, err := m.Tier(key); !errors.Is(err, tiermem.ErrNotFound) {
			t.Fatalf("round %d: %s outlived its TTL past a migration pass: %v", i, key, err)
		}
	}
}
