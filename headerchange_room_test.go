package tiermem_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
)

// A TTL change of a cold key appends the value's stored bytes with the new
// header (UpdateHeader's doc), and the disk record grows by the header's
// growth alone: with the cold tier near its budget (its steady state once
// it spills to glacier) the value still does not pass through the Manager.
// (Reserving a quarter of the entry's size, as for a memory tier, sent it
// to the general path.)
func TestColdHeaderChangeNearBudget(t *testing.T) {
	const size = 1 << 20
	for _, fill := range []int{0, 11} {
		t.Run(fmt.Sprint("fill", fill), func(t *testing.T) {
			m := open(t, &tiermem.Options{Hot: tiermem.TierOptions{Size: 1 << 20}, Warm: tiermem.TierOptions{Size: 1 << 20},
				Cold: tiermem.TierOptions{Size: 12<<20 + 200<<10}, MigrateInterval: -1})
			big := review2Noise(1, size)
			must(t, m.Store("big", big, tiermem.InTier(tiermem.Cold)))
			for i := range fill {
				must(t, m.Store(fmt.Sprint("f", i), review2Noise(uint64(i+2), size), tiermem.InTier(tiermem.Cold)))
			}
			u := m.Usage()
			must(t, m.Expire("big", time.Hour)) // warms the pools
			n := allocatedBy(func() { must(t, m.Expire("big", 2*time.Hour)) })
			t.Logf("cold %d of %d bytes: an Expire of a %d-byte cold value allocated %d bytes", u[tiermem.Cold].Used, u[tiermem.Cold].Capacity, size, n)
			if n > size*3/2 && !raceEnabled {
				t.Errorf("an Expire of a cold %d-byte value allocated %d bytes: the value went through the Manager", size, n)
			}
		})
	}
}

func review2Noise(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 9))
	v := make([]byte, n)
	for i := range v {
		v[i] = byte(r.Uint32())
	}
	return v
}
