package cache

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkAccessAll records hits on random residents of a full Adaptive
// handle policy of 1M keys in batches of 16, as tier/heap's drain hands
// them over: one Access after another, and AccessAll.
func BenchmarkAccessAll(b *testing.B) {
	const n = 1 << 20
	p, err := NewHandlePolicy[string](Adaptive, n)
	if err != nil {
		b.Fatal(err)
	}
	hs := make([]Handle[string], n)
	for i := range hs {
		p.Add(&hs[i], fmt.Sprint("key:", i), 1)
	}
	r := rand.New(rand.NewPCG(1, 2))
	order := make([]*Handle[string], 1<<22)
	for i := range order {
		order[i] = &hs[r.IntN(n)]
	}
	for _, all := range []bool{true, false, true, false} {
		b.Run(fmt.Sprint("all=", all), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				batch := order[i : i+16]
				if i += 16; i == len(order) {
					i = 0
				}
				if all {
					p.AccessAll(batch)
				} else {
					for _, h := range batch {
						p.Access(h)
					}
				}
			}
		})
	}
}
