package tiermem_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tiermem/tiermem"
)

// BenchmarkPrepareLookups looks up batches of 16 keys drawn at random from
// a million 100-byte values in one memory tier, one key after another, with
// and without PrepareLookups first: what preparing a pipeline's keys saves
// when they miss the CPU's cache. ns/op is per key.
//
//	go test -run '^$' -bench PrepareLookups -count 3 .
func BenchmarkPrepareLookups(b *testing.B) {
	const keys = 1 << 20
	for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm} {
		m := openBench(b, tiermem.Options{Hot: tiermem.TierOptions{Size: 1 << 30}, Warm: tiermem.TierOptions{Size: 1 << 30},
			Cold: tiermem.TierOptions{Size: 1 << 30}, Glacier: tiermem.GlacierOptions{Disabled: true}})
		names := make([][]byte, keys)
		value := make([]byte, 100)
		for i := range names {
			names[i] = fmt.Appendf(nil, "key:%012d", i)
			if err := m.StoreBytes(names[i], value, tiermem.InTier(tr)); err != nil {
				b.Fatal(err)
			}
		}
		for _, op := range []string{"view", "store"} {
			for _, prepare := range []bool{false, true} {
				b.Run(fmt.Sprintf("%s/%s/prepare=%v", tr, op, prepare), func(b *testing.B) {
					r := rand.New(rand.NewPCG(1, 2))
					batch := make([][]byte, 16)
					b.ReportAllocs()
					for i := 0; i < b.N; i += len(batch) {
						for j := range batch {
							batch[j] = names[r.IntN(keys)]
						}
						if prepare {
							m.PrepareLookups(batch)
						}
						for _, key := range batch {
							var err error
							if op == "view" {
								err = m.ViewBytes(key, func([]byte) error { return nil })
							} else {
								err = m.StoreBytes(key, value, tiermem.InTier(tr))
							}
							if err != nil {
								b.Fatal(err)
							}
						}
					}
				})
			}
		}
	}
}
