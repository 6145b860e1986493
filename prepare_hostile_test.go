package tiermem_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// TestHostilePrepareLookupsRacesEverything: Manager.PrepareLookups of
// batches larger than its own (32), with keys present, absent and moving,
// runs while other goroutines Store, Delete and Move keys between the
// tiers, read them, and the Manager closes. Nothing may be reported under
// -race, nothing may panic, and every value read is the one stored.
func TestHostilePrepareLookupsRacesEverything(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 4 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, Glacier: tiermem.GlacierOptions{Disabled: true},
		MigrateInterval: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	keys := make([][]byte, 600)
	for i := range keys {
		keys[i] = []byte(fmt.Sprint("key-", i))
	}
	tiers := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for round := 0; !stopped(); round++ {
			for i, k := range keys {
				key := string(k)
				switch (i + round) % 4 {
				case 0, 1:
					m.Store(key, k, tiermem.InTier(tiers[(i+round)%3]))
				case 2:
					m.Move(key, tiers[round%3])
				case 3:
					m.Delete(key)
				}
			}
		}
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stopped() {
			for _, k := range keys[:100] {
				m.ViewBytes(k, func(v []byte) error {
					if string(v) != string(k) {
						t.Errorf("%s reads %q", k, v)
					}
					return nil
				})
			}
		}
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stopped() {
			m.PrepareLookups(keys)
		}
		m.PrepareLookups(keys)
	}()
	time.Sleep(200 * time.Millisecond)
	for deadline := time.Now().Add(200 * time.Millisecond); time.Now().Before(deadline); {
		m.PrepareLookups(keys[:100])
	}
	if err := m.Close(); err != nil {
		t.Error(err)
	}
	close(stop)
	wg.Wait()
	m.PrepareLookups(keys)
}
