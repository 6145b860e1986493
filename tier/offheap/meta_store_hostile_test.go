package offheap_test

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
	"github.com/tiermem/tiermem/tier/offheap"
)

// rvCompressible is compressible, still naming key and version.
func rvCompressible(k int, ver uint32, n int) []byte {
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

// TestHostileMetaMatchesValue: meta and value read together always come from
// the same Put (SetMeta rewrites the meta of the current version).
func TestHostileMetaMatchesValue(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprint("compress=", compress), func(t *testing.T) {
			s, err := offheap.New(&offheap.Options{Capacity: 64 << 20, MaxSmall: 4 << 10, Compress: compress})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			const keys = 12
			var mus [keys]sync.Mutex
			var vers [keys]uint32
			var bad atomic.Int32
			var wg sync.WaitGroup
			deadline := time.Now().Add(2500 * time.Millisecond)
			sizes := []int{8, 248, 256, 1000, 4000, 5000, 20000, 100000}
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(g), 11))
					for time.Now().Before(deadline) && bad.Load() < 5 {
						k := rng.IntN(keys)
						key := fmt.Sprint("m", k)
						switch op := rng.IntN(8); {
						case op < 2:
							mus[k].Lock()
							vers[k]++
							v := vers[k]
							if _, err := s.Put(key, rvCompressible(k, v, sizes[rng.IntN(len(sizes))]), rvMeta(v, rng.IntN(300))); err != nil {
								t.Error(err)
							}
							mus[k].Unlock()
						case op < 4:
							mus[k].Lock()
							v := vers[k]
							_, err := s.SetMeta(key, rvMeta(v, rng.IntN(300)), 1<<30)
							if err != nil && !errors.Is(err, tier.ErrNotFound) {
								t.Error(err)
							}
							mus[k].Unlock()
						case op == 4:
							mus[k].Lock()
							s.Delete(key)
							mus[k].Unlock()
						case op == 5:
							lv, ok, err := s.OpenLarge(key)
							if err == nil && ok {
								mv := binary.LittleEndian.Uint32(lv.Meta())
								lv.View(func(v []byte) error {
									if got := binary.LittleEndian.Uint32(v[4:]); got != mv || binary.LittleEndian.Uint32(v[len(v)-4:]) != mv {
										bad.Add(1)
										t.Errorf("LargeValue of key %d: meta version %d, value version %d", k, mv, got)
									}
									return nil
								})
								lv.Close()
							}
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
			s.Scan(func(key string, meta []byte, size int64) error {
				sum += size
				n++
				if sz, err := s.Size(key); err != nil || sz != size {
					t.Errorf("Size(%q) = %d %v, Scan says %d", key, sz, err, size)
				}
				return nil
			})
			if sum != s.Used() || n != s.Len() {
				t.Errorf("Scan sum %d n %d, Used %d Len %d", sum, n, s.Used(), s.Len())
			}
			if s.Held() != 0 {
				t.Errorf("Held %d with no LargeValue open", s.Held())
			}
		})
	}
}
