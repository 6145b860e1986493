package heap_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier"
)

func rvWordsWhole(k int, v []byte) string {
	if len(v) < 8 {
		return fmt.Sprintf("key %d: %d-byte value", k, len(v))
	}
	want := rvWords(k, uint32(v[4])|uint32(v[5])<<8|uint32(v[6])<<16|uint32(v[7])<<24, len(v))
	for i := range v {
		if v[i] != want[i] {
			return fmt.Sprintf("key %d len %d: byte %d differs", k, len(v), i)
		}
	}
	return ""
}

func TestHostileHeapUnserializedWriters(t *testing.T) {
	for name, s := range rvStores(t) {
		const keys = 6
		sizes := []int{8, 200, 1000, 65536 - 16, 65536, 70000}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var kept [][]byte
		var keptK []int
		deadline := time.Now().Add(2 * time.Second)
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(g), 99))
				for i := uint32(0); time.Now().Before(deadline); i++ {
					k := rng.IntN(keys)
					key := fmt.Sprint("u", k)
					var err error
					switch rng.IntN(6) {
					case 0:
						meta := make([]byte, rng.IntN(20))
						if rng.IntN(3) == 0 {
							meta = []byte("pin")
						}
						_, err = s.Put(key, rvWords(k, i, sizes[rng.IntN(len(sizes))]), meta)
					case 1:
						_, err = s.Delete(key)
					case 2:
						_, err = s.SetMeta(key, make([]byte, rng.IntN(40)), 1<<30)
					case 3:
						n := sizes[rng.IntN(len(sizes))]
						p, e := s.Prepare(key, n, 16)
						if e == nil {
							copy(p.Value(), rvWords(k, i, n))
							_, err = p.Commit(make([]byte, rng.IntN(17)))
						}
					case 4:
						s.Victim(nil)
						s.Touch(key)
					default:
						err = s.View(key, func(v []byte) error {
							if msg := rvWordsWhole(k, v); msg != "" {
								t.Error(msg)
							}
							if s.Lends(len(v)) {
								mu.Lock()
								kept, keptK = append(kept, v), append(keptK, k)
								mu.Unlock()
							}
							return nil
						})
					}
					if err != nil && !errors.Is(err, tier.ErrNotFound) {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		var sum, n int64
		s.Scan(func(key string, meta []byte, size int64) error { sum += size; n++; return nil })
		if sum != s.Used() || n != s.Len() {
			t.Errorf("%s: Scan sum %d n %d, Used %d Len %d", name, sum, n, s.Used(), s.Len())
		}
		s.Close()
		for i, v := range kept {
			if msg := rvWordsWhole(keptK[i], v); msg != "" {
				t.Fatalf("%s: kept lent value changed: %s", name, msg)
			}
		}
	}
}
