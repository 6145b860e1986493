package offheap_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/offheap"
)

// TestPopulateWithSmallSpans: stores of small capacities (spans of
// 4 KiB to 1 MiB, so chunks of 4 KiB to 64 KiB) and MaxSmall up to 1 MiB
// (slots larger than a chunk, and slots crossing chunk bounds) keep every
// value byte for byte through puts, overwrites and deletes.
func TestPopulateWithSmallSpans(t *testing.T) {
	noise := make([]byte, 2<<20+64)
	rand.NewChaCha8([32]byte{1}).Read(noise)
	for _, c := range []struct{ capacity, maxSmall int64 }{
		{512 << 10, 256}, {1 << 20, 512}, {4 << 20, 2 << 10}, {4 << 20, 32 << 10}, {16 << 20, 128 << 10}, {128 << 20, 1 << 20}, {64 << 20, 100 << 10},
	} {
		s, err := offheap.New(&offheap.Options{Capacity: c.capacity, MaxSmall: c.maxSmall})
		if err != nil {
			t.Logf("capacity %d, MaxSmall %d: %v", c.capacity, c.maxSmall, err)
			continue
		}
		r := rand.New(rand.NewPCG(uint64(c.capacity), 1))
		want := map[string][]byte{}
		maxV := int(c.maxSmall) * 2 // also records of their own mapping
		for i := range 1500 {
			k := fmt.Sprint("k", r.IntN(200))
			switch r.IntN(4) {
			case 0:
				if _, err := s.Delete(k); err == nil {
					delete(want, k)
				}
			default:
				n := r.IntN(maxV)
				if r.IntN(2) == 0 {
					n = r.IntN(300)
				}
				v := append([]byte(nil), noise[i%64:i%64+n]...)
				if _, err := s.Put(k, v, nil); err != nil {
					if errors.Is(err, tier.ErrNoSpace) {
						continue
					}
					t.Fatalf("capacity %d: Put %d bytes: %v", c.capacity, n, err)
				}
				want[k] = v
			}
		}
		for k, v := range want {
			got, err := s.Get(k, nil)
			if err != nil || !bytes.Equal(got, v) {
				t.Errorf("capacity %d MaxSmall %d: %s: %d bytes, %v; want %d bytes", c.capacity, c.maxSmall, k, len(got), err, len(v))
			}
		}
		s.Close()
	}
}

// TestPopulateRacingClose: Close while Puts of fresh slots
// run: every Put succeeds or is ErrClosed, nothing faults.
func TestPopulateRacingClose(t *testing.T) {
	for round := range 20 {
		s, err := offheap.New(&offheap.Options{Capacity: 64 << 20})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				v := make([]byte, 100+g*3000)
				for i := range 500 {
					if _, err := s.Put(fmt.Sprint(g, "-", i), v, nil); err != nil && !errors.Is(err, tier.ErrClosed) {
						t.Errorf("round %d: Put: %v", round, err)
						return
					}
				}
			})
		}
		wg.Go(func() { s.Close() })
		wg.Wait()
	}
}
