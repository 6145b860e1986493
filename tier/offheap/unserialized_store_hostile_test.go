package offheap_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/offheap"
)

// TestHostileUnserializedWriters: writers of the same few keys race with no
// lock of the test's: every read is a whole value of its key, and the
// accounting matches the entries at the end.
func TestHostileUnserializedWriters(t *testing.T) {
	for _, compress := range []bool{false, true} {
		s, err := offheap.New(&offheap.Options{Capacity: 32 << 20, MaxSmall: 4 << 10, Compress: compress})
		if err != nil {
			t.Fatal(err)
		}
		const keys = 6
		sizes := []int{8, 200, 600, 1000, 2000, 4000, 5000, 50000}
		var wg sync.WaitGroup
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
					switch rng.IntN(7) {
					case 0:
						_, err = s.Put(key, rvCompressible(k, i, sizes[rng.IntN(len(sizes))]), make([]byte, rng.IntN(20)))
					case 1:
						_, err = s.Delete(key)
					case 2:
						_, err = s.SetMeta(key, make([]byte, rng.IntN(300)), 1<<30)
					case 3:
						n := sizes[rng.IntN(len(sizes))]
						ml := rng.IntN(20)
						var p interface {
							Value() []byte
							Commit([]byte) (int64, error)
							Discard()
						}
						p, err = s.Prepare(key, n, ml)
						if err == nil {
							copy(p.Value(), rvCompressible(k, i, n))
							_, err = p.Commit(make([]byte, ml))
							p.Discard()
						}
					case 4:
						lv, ok, e := s.OpenLarge(key)
						err = e
						if ok {
							lv.View(func(v []byte) error {
								if msg := rvWhole(k, v); msg != "" {
									t.Error(msg)
								}
								return nil
							})
							lv.Close()
						}
					default:
						err = s.View(key, func(v []byte) error {
							if msg := rvWhole(k, v); msg != "" {
								t.Error(msg)
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
			t.Errorf("compress %v: Scan sum %d n %d, Used %d Len %d", compress, sum, n, s.Used(), s.Len())
		}
		st := s.Stats()
		if st.Items != int(n) || s.Held() != 0 {
			t.Errorf("Stats %+v, n %d, Held %d", st, n, s.Held())
		}
		s.Close()
	}
}

func rvWhole(k int, v []byte) string {
	if len(v) < 8 {
		return fmt.Sprintf("key %d: %d-byte value", k, len(v))
	}
	want := rvCompressible(k, uint32(v[4])|uint32(v[5])<<8|uint32(v[6])<<16|uint32(v[7])<<24, len(v))
	for i := range v {
		if v[i] != want[i] {
			return fmt.Sprintf("key %d len %d: byte %d differs", k, len(v), i)
		}
	}
	return ""
}
