package offheap_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/offheap"
)

func TestHostileMaxKeyAndMeta(t *testing.T) {
	for _, compress := range []bool{false, true} {
		s, err := offheap.New(&offheap.Options{Capacity: 64 << 20, MaxSmall: 64 << 10, Compress: compress})
		if err != nil {
			t.Fatal(err)
		}
		for i, kl := range []int{1, 255, 256, 65535} {
			for _, ml := range []int{0, 255, 256, 65535} {
				for _, vl := range []int{0, 1, 255, 256, 4000, 70000, 200000} {
					key := string(bytes.Repeat([]byte{byte('a' + i)}, kl-1)) + "k"
					meta := bytes.Repeat([]byte{0xAB}, ml)
					val := rvValue(kl+ml, uint32(vl), vl)
					if vl >= 8 && compress {
						val = rvCompressible(kl+ml, uint32(vl), vl)
					}
					if _, err := s.Put(key, val, meta); err != nil {
						t.Fatalf("Put k%d m%d v%d: %v", kl, ml, vl, err)
					}
					err := s.ViewMeta(key, func(v, m []byte) error {
						if !bytes.Equal(v, val) || !bytes.Equal(m, meta) {
							return fmt.Errorf("value/meta differ (%d/%d bytes, want %d/%d)", len(v), len(m), vl, ml)
						}
						return nil
					})
					if err != nil {
						t.Errorf("k%d m%d v%d: %v", kl, ml, vl, err)
					}
					newMeta := bytes.Repeat([]byte{0xCD}, (ml+100)%65536)
					if _, err := s.SetMeta(key, newMeta, math.MaxInt64/2); err != nil {
						t.Errorf("SetMeta k%d m%d v%d: %v", kl, ml, vl, err)
					}
					if got, _ := s.Get(key, nil); !bytes.Equal(got, val) {
						t.Errorf("after SetMeta k%d m%d v%d: value differs", kl, ml, vl)
					}
					if m, _ := s.Meta(key); !bytes.Equal(m, newMeta) {
						t.Errorf("after SetMeta k%d m%d v%d: meta differs", kl, ml, vl)
					}
					if k, ok := s.KeyOf(offheap.Hash(key)); !ok || k != key {
						t.Errorf("KeyOf k%d", kl)
					}
					if n, err := s.ValueLen(key); err != nil || n != int64(vl) {
						t.Errorf("ValueLen k%d m%d v%d: %d %v", kl, ml, vl, n, err)
					}
				}
			}
		}
		if _, err := s.SetMeta("zz", make([]byte, 65536), 1<<30); !errors.Is(err, tier.ErrTooLarge) {
			t.Errorf("SetMeta 64KiB meta: %v", err)
		}
		if _, err := s.Put("zz", nil, make([]byte, 65536)); !errors.Is(err, tier.ErrTooLarge) {
			t.Errorf("Put 64KiB meta: %v", err)
		}
		s.Close()
	}
}

// TestHostilePrepareNeverHoldable: a value of MaxInt64 bytes is one the
// store can never hold: tier.ErrTooLarge (the Preparer contract), not
// ErrNoSpace with a negative record size.
func TestHostilePrepareNeverHoldable(t *testing.T) {
	s, err := offheap.New(&offheap.Options{Capacity: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Prepare("p", math.MaxInt64, 0)
	if !errors.Is(err, tier.ErrTooLarge) {
		t.Errorf("Prepare(MaxInt64) = %v, want ErrTooLarge", err)
	}
	if c := s.Cost(1, math.MaxInt64, 0); c <= 0 {
		t.Errorf("Cost(1, MaxInt64, 0) = %d", c)
	}
}
