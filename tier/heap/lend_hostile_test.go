package heap

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/cache"
)

func hostileStores(t *testing.T) map[string]*Store {
	p, err := NewWithPolicy(PolicyOptions{Kind: cache.LRU, Capacity: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*Store{"clock": New(), "policy": p}
}

// TestLendBoundary: Lends is false below 64 KiB and true from it; a
// value of exactly 64 KiB (the smallest lent) with an empty-ish key is
// never written over by replacements of the same size, of 3/4 of it, by a
// prepared one, nor by a value that shrinks below the limit.
func TestLendBoundary(t *testing.T) {
	for name, s := range hostileStores(t) {
		t.Run(name, func(t *testing.T) {
			defer s.Close()
			if s.Lends(lendMin-1) || !s.Lends(lendMin) {
				t.Fatalf("Lends(%d) %v, Lends(%d) %v", lendMin-1, s.Lends(lendMin-1), lendMin, s.Lends(lendMin))
			}
			for _, meta := range [][]byte{nil, []byte("0123456789")} {
				want := bytes.Repeat([]byte{1}, lendMin)
				if _, err := s.Put("k", want, meta); err != nil {
					t.Fatal(err)
				}
				var kept []byte
				s.ViewMeta("k", func(v, _ []byte) error { kept = v; return nil })
				for i, n := range []int{lendMin, lendMin - 1, lendMin * 3 / 4, lendMin - lendMin/4 + 10, lendMin - 8} {
					if _, err := s.Put("k", bytes.Repeat([]byte{byte(10 + i)}, n), meta); err != nil {
						t.Fatal(err)
					}
				}
				p, _ := s.Prepare("k", lendMin, len(meta))
				copy(p.Value(), bytes.Repeat([]byte{99}, lendMin))
				p.Commit(meta)
				if !bytes.Equal(kept, want) {
					t.Fatalf("meta %q: a lent 64 KiB value was written over", meta)
				}
			}
		})
	}
}

// TestLentValuesUnderConcurrentRewrites: readers keep every value of
// 64 KiB or more that ViewMeta / ViewMetaTouch hand out (each value one
// byte repeated) while writers replace the keys with values of random
// sizes around the limit, commit prepared ones, delete them and switch the
// policy: every kept slice still holds what it held in the callback.
func TestLentValuesUnderConcurrentRewrites(t *testing.T) {
	for name, s := range hostileStores(t) {
		t.Run(name, func(t *testing.T) {
			defer s.Close()
			var stop atomic.Bool
			var wg sync.WaitGroup
			var seq atomic.Uint32
			errs := make(chan error, 16)
			for g := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(g), 5))
					type keptValue struct {
						v    []byte
						b    byte
						size int
					}
					var kept []keptValue
					for !stop.Load() {
						key := fmt.Sprint("k", rng.IntN(3))
						n := lendMin - 2000 + rng.IntN(8000)
						b := byte(seq.Add(1))
						switch g % 3 {
						case 0:
							switch rng.IntN(6) {
							case 0:
								s.Delete(key)
							case 1:
								p, err := s.Prepare(key, n, 4)
								if err == nil {
									copy(p.Value(), bytes.Repeat([]byte{b}, n))
									p.Commit([]byte("meta"))
								}
							case 2:
								if g == 0 && s.policy != nil {
									s.SetPolicy(cache.Kind(rng.IntN(2)), 1<<30)
								}
							default:
								s.Put(key, bytes.Repeat([]byte{b}, n), []byte("meta"))
							}
						default:
							view := s.ViewMeta
							if rng.IntN(2) == 0 {
								view = s.ViewMetaTouch
							}
							view(key, func(v, _ []byte) error {
								if s.Lends(len(v)) && len(v) > 0 {
									kept = append(kept, keptValue{v: v, b: v[0], size: len(v)})
								}
								return nil
							})
							if len(kept) > 200 {
								kept = kept[100:]
							}
							for _, k := range kept[max(len(kept)-20, 0):] {
								if len(k.v) != k.size || !bytes.Equal(k.v, bytes.Repeat([]byte{k.b}, k.size)) {
									select {
									case errs <- fmt.Errorf("a lent value of %d bytes changed", k.size):
									default:
									}
									return
								}
							}
						}
					}
				}()
			}
			time.Sleep(3 * time.Second)
			stop.Store(true)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}
