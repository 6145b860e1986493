package offheap_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/offheap"
)

// TestHostileTinyCapacity: a slab that fills up under many writers: failed
// Puts leave the old value, accounting stays exact.
func TestHostileTinyCapacity(t *testing.T) {
	s, err := offheap.New(&offheap.Options{Capacity: 1 << 20, MaxSmall: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const keys = 2000
	var mus [keys]sync.Mutex
	var vers [keys]uint32 // version stored, 0 none
	var noSpace atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(2 * time.Second)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 5))
			for time.Now().Before(deadline) {
				k := rng.IntN(keys)
				key := fmt.Sprint("t", k)
				mus[k].Lock()
				switch rng.IntN(6) {
				case 0, 1, 2:
					v := vers[k] + 1
					if v == 0 {
						v = 1
					}
					_, err := s.Put(key, rvValue(k, v, []int{100, 2000, 3000, 3500, 9000}[rng.IntN(4)]), nil)
					switch {
					case err == nil:
						vers[k] = v
					case errors.Is(err, tier.ErrNoSpace):
						noSpace.Add(1)
					default:
						t.Error(err)
					}
				case 3:
					if rng.IntN(3) == 0 {
						if _, err := s.Delete(key); err == nil {
							vers[k] = 0
						}
					}
				case 4:
					_, err := s.SetMeta(key, make([]byte, rng.IntN(3000)), 1<<30)
					if err != nil && !errors.Is(err, tier.ErrNotFound) && !errors.Is(err, tier.ErrNoSpace) {
						t.Error(err)
					}
				default:
					err := s.View(key, func(v []byte) error {
						ver, msg := rvCheck(k, v)
						if msg != "" || ver != vers[k] {
							t.Errorf("key %d: read ver %d want %d %s", k, ver, vers[k], msg)
						}
						return nil
					})
					if errors.Is(err, tier.ErrNotFound) && vers[k] != 0 {
						t.Errorf("key %d: not found, want ver %d", k, vers[k])
					}
				}
				mus[k].Unlock()
			}
		}()
	}
	wg.Wait()
	var sum, n int64
	s.Scan(func(key string, meta []byte, size int64) error { sum += size; n++; return nil })
	if sum != s.Used() || n != s.Len() {
		t.Errorf("Scan sum %d n %d, Used %d Len %d", sum, n, s.Used(), s.Len())
	}
	for k := range keys {
		if vers[k] != 0 {
			if v, err := s.Get(fmt.Sprint("t", k), nil); err != nil {
				t.Errorf("key %d: %v", k, err)
			} else if ver, msg := rvCheck(k, v); ver != vers[k] || msg != "" {
				t.Errorf("key %d: ver %d want %d %s", k, ver, vers[k], msg)
			}
		}
	}
	t.Logf("%d ErrNoSpace, %d keys, Used %d", noSpace.Load(), s.Len(), s.Used())
	if noSpace.Load() == 0 {
		t.Log("slab never filled")
	}
}
