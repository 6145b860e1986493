package heap_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier"
)

func rvWords(k int, ver uint32, n int) []byte {
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint32(b[i:], uint32(k))
		binary.LittleEndian.PutUint32(b[i+4:], ver)
	}
	return b
}

func rvMeta(ver uint32, pad int) []byte {
	m := make([]byte, 4+pad)
	binary.LittleEndian.PutUint32(m, ver)
	for i := 4; i < len(m); i++ {
		m[i] = byte(ver) ^ byte(i)
	}
	return m
}

func TestHostileHeapMetaMatchesValue(t *testing.T) {
	for name, s := range rvStores(t) {
		t.Run(name, func(t *testing.T) {
			defer s.Close()
			const keys = 12
			var mus [keys]sync.Mutex
			var vers [keys]uint32
			var bad atomic.Int32
			var wg sync.WaitGroup
			type kept struct {
				k   int
				ver uint32
				v   []byte
			}
			var keptMu sync.Mutex
			var keeps []kept
			deadline := time.Now().Add(2 * time.Second)
			sizes := []int{8, 248, 1000, 65536 - 64, 65536 - 8, 65536, 100000}
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(g), 11))
					for time.Now().Before(deadline) && bad.Load() < 5 {
						k := rng.IntN(keys)
						key := fmt.Sprint("m", k)
						switch op := rng.IntN(9); {
						case op < 2:
							mus[k].Lock()
							vers[k]++
							v := vers[k]
							if _, err := s.Put(key, rvWords(k, v, sizes[rng.IntN(len(sizes))]), rvMeta(v, rng.IntN(30))); err != nil {
								t.Error(err)
							}
							mus[k].Unlock()
						case op == 2:
							mus[k].Lock()
							vers[k]++
							v := vers[k]
							n := sizes[rng.IntN(len(sizes))]
							ml := rng.IntN(30)
							p, err := s.Prepare(key, n, 4+ml+rng.IntN(5))
							if err != nil {
								t.Error(err)
								mus[k].Unlock()
								return
							}
							copy(p.Value(), rvWords(k, v, n))
							if _, err := p.Commit(rvMeta(v, ml)); err != nil {
								t.Error(err)
							}
							mus[k].Unlock()
						case op < 5:
							mus[k].Lock()
							v := vers[k]
							_, err := s.SetMeta(key, rvMeta(v, rng.IntN(40)), 1<<30)
							if err != nil && !errors.Is(err, tier.ErrNotFound) {
								t.Error(err)
							}
							mus[k].Unlock()
						case op == 5:
							mus[k].Lock()
							s.Delete(key)
							mus[k].Unlock()
						default:
							err := s.ViewMeta(key, func(v, meta []byte) error {
								mv := binary.LittleEndian.Uint32(meta)
								if binary.LittleEndian.Uint32(v) != uint32(k) || binary.LittleEndian.Uint32(v[4:]) != mv || binary.LittleEndian.Uint32(v[len(v)-4:]) != mv {
									bad.Add(1)
									t.Errorf("key %d: meta version %d, value words %d/%d/%d len %d", k, mv, binary.LittleEndian.Uint32(v), binary.LittleEndian.Uint32(v[4:]), binary.LittleEndian.Uint32(v[len(v)-4:]), len(v))
								}
								for i := 4; i < len(meta); i++ {
									if meta[i] != byte(mv)^byte(i) {
										bad.Add(1)
										t.Errorf("key %d: meta byte %d wrong", k, i)
										break
									}
								}
								if s.Lends(len(v)) {
									keptMu.Lock()
									keeps = append(keeps, kept{k, mv, v})
									keptMu.Unlock()
								}
								return nil
							})
							if err != nil && !errors.Is(err, tier.ErrNotFound) {
								t.Error(err)
							}
						}
					}
				}()
			}
			wg.Wait()
			var sum, n int64
			s.Scan(func(key string, meta []byte, size int64) error { sum += size; n++; return nil })
			if sum != s.Used() || n != s.Len() {
				t.Errorf("Scan sum %d n %d, Used %d Len %d", sum, n, s.Used(), s.Len())
			}
			for _, kp := range keeps {
				want := rvWords(kp.k, kp.ver, len(kp.v))
				if string(want) != string(kp.v) {
					t.Fatalf("kept lent value of key %d ver %d changed", kp.k, kp.ver)
				}
			}
			t.Logf("%d lent values checked", len(keeps))
		})
	}
}
