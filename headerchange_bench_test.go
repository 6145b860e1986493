package tiermem_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// BenchmarkExpire changes the TTL of one key a memory tier holds, of 100
// bytes and of 1 MiB, each way a caller does it: Expire (and the server's
// EXPIRE, through UpdateHeader), an UpdateEntry that leaves the value as
// it was (what the server's GETEX was), and UpdateHeaderView (what it is). Store of the
// same value in the same tier is the baseline: what a TTL change cost
// when it rewrote the value.
//
// hot-durable is the hot tier with Durability Always: the cold log's copy
// changes too, and each change is synced.
func BenchmarkExpire(b *testing.B) {
	type place struct {
		name       string
		tier       tiermem.Tier
		durability tiermem.Durability
		noise      bool // incompressible: stored raw in cold
	}
	for _, p := range []place{{"hot", tiermem.Hot, tiermem.None, false}, {"warm", tiermem.Warm, tiermem.None, false},
		{"cold", tiermem.Cold, tiermem.None, false}, {"cold-raw", tiermem.Cold, tiermem.None, true}, {"hot-durable", tiermem.Hot, tiermem.Always, false}} {
		tr := p.tier
		for _, size := range []int{100, 1 << 20} {
			name := fmt.Sprintf("%s/%dB", p.name, size)
			m := openBench(b, tiermem.Options{Hot: tiermem.TierOptions{Size: 64 << 20}, Warm: tiermem.TierOptions{Size: 64 << 20},
				Cold: tiermem.TierOptions{Size: 1 << 30}, Durability: p.durability})
			value := make([]byte, size)
			for i := range value {
				value[i] = byte(i * 7)
			}
			if p.noise {
				rand.NewChaCha8([32]byte{7}).Read(value)
			}
			if err := m.Store("k", value, tiermem.InTier(tr), tiermem.WithTTL(time.Hour)); err != nil {
				b.Fatal(err)
			}
			run := func(sub string, op func(i int) error) {
				b.Run(name+"/"+sub, func(b *testing.B) {
					b.ReportAllocs()
					b.SetBytes(int64(size))
					for i := 0; b.Loop(); i++ {
						if err := op(i); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
			run("Expire", func(i int) error { return m.Expire("k", time.Hour+time.Duration(i)) })
			run("UpdateEntry", func(i int) error {
				return m.UpdateEntry("k", func(e *tiermem.Entry) (bool, error) {
					e.Expires = time.Now().Add(time.Hour + time.Duration(i))
					return true, nil
				})
			})
			// A GETEX as the server makes it: the value is copied into a
			// reply buffer unless its tier lends it.
			reply := make([]byte, 0, size)
			view := func(v []byte, shared bool) error {
				if !shared {
					reply = append(reply[:0], v...)
				}
				return nil
			}
			run("UpdateHeaderView", func(i int) error {
				return m.UpdateHeaderView("k", func(e *tiermem.Entry) (bool, error) {
					e.Expires = time.Now().Add(time.Hour + time.Duration(i))
					return true, nil
				}, view)
			})
			// The same GETEX with the value opened as its TTL changes and
			// read as the server sends it, 256 KiB at a time (Open), or only
			// when it is over SmallValueMax and lies where it can be read in
			// place (ViewLarge: the server's GETEX).
			chunk := make([]byte, 256<<10)
			readAll := func(v *tiermem.ValueReader, err error) error {
				if v == nil || err != nil {
					return err
				}
				defer v.Close()
				for off := int64(0); off < v.Size(); off += int64(len(chunk)) {
					if _, err := v.ReadAt(chunk[:min(int64(len(chunk)), v.Size()-off)], off); err != nil {
						return err
					}
				}
				return nil
			}
			expire := func(i int) func(e *tiermem.Entry) (bool, error) {
				return func(e *tiermem.Entry) (bool, error) {
					e.Expires = time.Now().Add(time.Hour + time.Duration(i))
					return true, nil
				}
			}
			run("UpdateHeaderOpen", func(i int) error { return readAll(m.UpdateHeaderOpen("k", expire(i))) })
			run("UpdateHeaderViewLarge", func(i int) error { return readAll(m.UpdateHeaderViewLarge("k", expire(i), view)) })
			run("Store", func(int) error { return m.Store("k", value, tiermem.InTier(tr), tiermem.WithTTL(time.Hour)) })
		}
	}
}

// BenchmarkFirstTTL gives an incompressible value of 1 MiB and of 16 MiB,
// stored without a TTL, one and takes it off again, alternately (Expire,
// Persist): the meta changes length at every step, the case where a tier
// may have to move the value to make room for its header.
func BenchmarkFirstTTL(b *testing.B) {
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		for _, size := range []int{1 << 20, 16 << 20} {
			m := openBench(b, tiermem.Options{Hot: tiermem.TierOptions{Size: 64 << 20}, Warm: tiermem.TierOptions{Size: 64 << 20},
				Cold: tiermem.TierOptions{Size: 1 << 30}})
			value := make([]byte, size)
			rand.NewChaCha8([32]byte{1}).Read(value)
			if err := m.Store("k", value, tiermem.InTier(tr)); err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("%s/%dMiB", tr, size>>20), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(value)))
				for i := 0; b.Loop(); i++ {
					var err error
					if i%2 == 0 {
						err = m.Expire("k", time.Hour)
					} else {
						_, err = m.Persist("k")
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
