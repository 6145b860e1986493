package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// Each key has one writer, which Stores, Deletes and reads back; other
// goroutines Move, Copy and Migrate the keys between tiers that start
// empty (the Delete fast paths answer while a tier holds nothing). The
// writer must always read what it wrote last: a stale copy left in a
// lower tier would come back.
func TestNoStaleCopyAcrossTiers(t *testing.T) {
	for _, d := range []tiermem.Durability{tiermem.None, tiermem.Always} {
		t.Run(d.String(), func(t *testing.T) {
			m, err := tiermem.Open(t.TempDir(), &tiermem.Options{
				Hot:        tiermem.TierOptions{Size: 256 << 10},
				Warm:       tiermem.TierOptions{Size: 1 << 20},
				Durability: d,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			const keys = 6
			stop := make(chan struct{})
			var wg sync.WaitGroup
			errc := make(chan error, keys+4)
			for k := 0; k < keys; k++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(k), 5))
					key := fmt.Sprint("key", k)
					var want []byte
					for v := 0; ; v++ {
						select {
						case <-stop:
							return
						default:
						}
						if rng.IntN(6) == 0 {
							err := m.Delete(key)
							if err != nil && !errors.Is(err, tiermem.ErrNotFound) {
								errc <- fmt.Errorf("Delete: %w", err)
								return
							}
							want = nil
						} else {
							n := []int{10, 300, 5000, 70000}[rng.IntN(4)]
							pat := []byte(fmt.Sprintf("%s/%d;", key, v))
							val := bytes.Repeat(pat, n/len(pat)+1)[:n]
							var opts []tiermem.StoreOption
							if rng.IntN(3) == 0 {
								opts = append(opts, tiermem.InTier([]tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold}[rng.IntN(3)]))
							}
							if err := m.Store(key, val, opts...); err != nil {
								if errors.Is(err, tiermem.ErrNoSpace) {
									continue
								}
								errc <- fmt.Errorf("Store: %w", err)
								return
							}
							want = val
						}
						got, err := m.Retrieve(key)
						switch {
						case want == nil && !errors.Is(err, tiermem.ErrNotFound):
							errc <- fmt.Errorf("%s deleted at version %d, Retrieve: %d bytes %.20q, %v", key, v, len(got), got, err)
							return
						case want != nil && (err != nil || !bytes.Equal(got, want)):
							errc <- fmt.Errorf("%s version %d: Retrieve %.20q (%d bytes), %v; want %.20q", key, v, got, len(got), err, want)
							return
						}
					}
				}()
			}
			for g := 0; g < 3; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(g), 6))
					for {
						select {
						case <-stop:
							return
						default:
						}
						key := fmt.Sprint("key", rng.IntN(keys))
						to := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold}[rng.IntN(3)]
						var err error
						if rng.IntN(2) == 0 {
							err = m.Move(key, to)
						} else {
							err = m.Copy(key, to)
						}
						if err != nil && !errors.Is(err, tiermem.ErrNotFound) && !errors.Is(err, tiermem.ErrNoSpace) && !errors.Is(err, tiermem.ErrTooLarge) {
							errc <- fmt.Errorf("Move/Copy %s to %v: %w", key, to, err)
							return
						}
						if rng.IntN(20) == 0 {
							if err := m.Migrate(); err != nil {
								errc <- fmt.Errorf("Migrate: %w", err)
								return
							}
						}
					}
				}()
			}
			time.Sleep(4 * time.Second)
			close(stop)
			wg.Wait()
			close(errc)
			for err := range errc {
				t.Error(err)
			}
		})
	}
}
