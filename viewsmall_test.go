package tiermem_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"runtime"
	"testing"

	"github.com/tiermem/tiermem"
)

// TestViewSharedSmallRefusesLargeValuesWithoutReadingThem: a value over
// SmallValueMax in warm (compressed or not) or cold (raw or compressed)
// is refused with ErrTooLarge, and the refusal reads nothing: it
// allocates far less than the value. A large hot value is shared, and
// values up to SmallValueMax are viewed, in every tier.
func TestViewSharedSmallRefusesLargeValuesWithoutReadingThem(t *testing.T) {
	const n = 8 << 20
	random := make([]byte, n)
	rand.Read(random)
	compressible := bytes.Repeat([]byte("abcdefgh"), n/8)
	for _, compress := range []bool{false, true} {
		m := open(t, &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 64 << 20},
			Warm: tiermem.TierOptions{Size: 256 << 20, Compress: compress}})
		for _, c := range []struct {
			tier  tiermem.Tier
			value []byte
		}{{tiermem.Warm, compressible}, {tiermem.Warm, random}, {tiermem.Cold, random}, {tiermem.Cold, compressible}} {
			must(t, m.Store("big", c.value, tiermem.InTier(c.tier)))
			runtime.GC()
			var err error
			d := allocatedBy(func() {
				err = m.ViewSharedSmall("big", func([]byte, bool) error {
					t.Errorf("%v (compress %v): the callback ran for a value of %d bytes", c.tier, compress, n)
					return nil
				})
			})
			if !errors.Is(err, tiermem.ErrTooLarge) {
				t.Errorf("%v (compress %v): ViewSharedSmall = %v, want ErrTooLarge", c.tier, compress, err)
			}
			if d > n/8 {
				t.Errorf("%v (compress %v): the refusal allocated %d bytes: it read the value", c.tier, compress, d)
			}
		}
		must(t, m.Store("big", random, tiermem.InTier(tiermem.Hot)))
		err := m.ViewSharedSmall("big", func(v []byte, shared bool) error {
			if !shared || !bytes.Equal(v, random) {
				t.Errorf("a large hot value: shared %v, equal %v; want it shared as stored", shared, bytes.Equal(v, random))
			}
			return nil
		})
		must(t, err)
		for _, tr := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
			small := random[:tiermem.SmallValueMax]
			must(t, m.Store("small", small, tiermem.InTier(tr)))
			err := m.ViewSharedSmall("small", func(v []byte, _ bool) error {
				if !bytes.Equal(v, small) {
					t.Errorf("%v: a value of SmallValueMax bytes viewed wrong", tr)
				}
				return nil
			})
			must(t, err)
		}
	}
}
