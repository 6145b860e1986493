package offheap_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/offheap"
)

// Random Puts, SetMetas and Deletes against a model, with values and metas
// around the compact-header limits (255), the slab's MaxSmall and
// compressible values, checking value, meta and Used after every step.
func TestSetMetaModel(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprint(compress), func(t *testing.T) {
			s := open(t, &offheap.Options{Capacity: 64 << 20, Compress: compress})
			defer s.Close()
			rng := rand.New(rand.NewPCG(1, 2))
			valueLens := []int{0, 1, 200, 250, 251, 255, 256, 300, 1000, 1010, 4090, 4100, 5000, 65000, 65200, 65400, 65500, 65536, 66000, 70000}
			metaLens := []int{0, 1, 2, 10, 200, 240, 250, 254, 255, 256, 300, 1000}
			type entry struct{ v, m []byte }
			model := map[string]entry{}
			size := map[string]int64{}
			mk := func(n int, seed int) []byte {
				b := make([]byte, n)
				for i := range b {
					if compress && seed%2 == 0 {
						b[i] = byte(i / 64)
					} else {
						b[i] = byte(rng.Uint32())
					}
				}
				return b
			}
			for step := 0; step < 1500; step++ {
				key := fmt.Sprint("k", rng.IntN(12))
				if rng.IntN(3) == 0 {
					key = string(bytes.Repeat([]byte{'K'}, 250+rng.IntN(10))) + key
				}
				switch op := rng.IntN(10); {
				case op < 3:
					v, m := mk(valueLens[rng.IntN(len(valueLens))], step), mk(metaLens[rng.IntN(len(metaLens))], 1)
					n, err := s.Put(key, v, m)
					if err != nil {
						t.Fatal(err)
					}
					model[key], size[key] = entry{v, m}, n
				case op < 9:
					m := mk(metaLens[rng.IntN(len(metaLens))], 1)
					n, err := s.SetMeta(key, m, 1<<30)
					if _, ok := model[key]; !ok {
						if err != tier.ErrNotFound {
							t.Fatalf("SetMeta of absent: %v", err)
						}
						continue
					}
					if err != nil {
						t.Fatal(err)
					}
					model[key] = entry{model[key].v, m}
					size[key] = n
				default:
					_, err := s.Delete(key)
					if _, ok := model[key]; ok != (err == nil) {
						t.Fatalf("Delete: %v", err)
					}
					delete(model, key)
					delete(size, key)
				}
				var sum int64
				for k, e := range model {
					err := s.ViewMeta(k, func(v, m []byte) error {
						if !bytes.Equal(v, e.v) || !bytes.Equal(m, e.m) {
							return fmt.Errorf("value %d/%d meta %d/%d", len(v), len(e.v), len(m), len(e.m))
						}
						return nil
					})
					if err != nil {
						t.Fatalf("step %d %q: %v", step, k, err)
					}
					n, _ := s.Size(k)
					if n != size[k] {
						t.Fatalf("step %d %q: Size %d, charged %d", step, k, n, size[k])
					}
					sum += n
				}
				if s.Used() != sum || s.Len() != int64(len(model)) {
					t.Fatalf("step %d: Used %d, sum %d; Len %d, %d", step, s.Used(), sum, s.Len(), len(model))
				}
			}
		})
	}
}

// SetMeta with no meta on a record with no meta and an empty value, whose
// record ends where its meta would start: nothing is written past it.
func TestSetMetaEmptyValueNoMeta(t *testing.T) {
	for _, key := range []string{"k", string(make([]byte, 300)), string(make([]byte, 304)), string(make([]byte, 303))} {
		t.Run(fmt.Sprint(len(key)), func(t *testing.T) {
			s := open(t, &offheap.Options{Capacity: 64 << 20})
			defer s.Close()
			if _, err := s.Put(key, nil, nil); err != nil {
				t.Fatal(err)
			}
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("SetMeta(nil) on an empty value panicked: %v", r)
				}
			}()
			if _, err := s.SetMeta(key, nil, 1<<30); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A value in its own mapping keeps metaSpare bytes of padding before it, so
// that a first TTL (a value stored without meta) and a pin are written where
// the value lies, not copied with it; so is taking them off again. Meta
// that outgrows the padding moves the value, which stays intact.
func TestSetMetaOfALargeValueInItsPadding(t *testing.T) {
	for _, compress := range []bool{false, true} {
		s := open(t, &offheap.Options{Capacity: 256 << 20, Compress: compress})
		for _, n := range []int{70000, 1 << 20, 16 << 20} {
			val := make([]byte, n)
			for i := range val {
				val[i] = byte(rand.Uint32())
			}
			key := fmt.Sprint("big", n)
			if _, err := s.Put(key, val, nil); err != nil {
				t.Fatal(err)
			}
			at := func() (uintptr, []byte, []byte) {
				t.Helper()
				var p uintptr
				var v, m []byte
				err := s.ViewMeta(key, func(value, meta []byte) error {
					p, v, m = uintptr(unsafe.Pointer(unsafe.SliceData(value))), bytes.Clone(value), bytes.Clone(meta)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				return p, v, m
			}
			first, _, _ := at()
			for i, meta := range [][]byte{bytes.Repeat([]byte{1}, 11), bytes.Repeat([]byte{2}, 13), nil, bytes.Repeat([]byte{3}, 14), bytes.Repeat([]byte{4}, 300)} {
				used := s.Used()
				if _, err := s.SetMeta(key, meta, 1<<20); err != nil {
					t.Fatal(err)
				}
				p, v, m := at()
				if !bytes.Equal(v, val) || !bytes.Equal(m, meta) {
					t.Fatalf("compress %v, %d bytes, meta %d: value equal %v, meta %d bytes", compress, n, len(meta), bytes.Equal(v, val), len(m))
				}
				inPadding := len(meta) < 300
				if inPadding && (p != first || s.Used() != used) {
					t.Errorf("compress %v, %d bytes, meta of %d (step %d): the value moved (%v) or Used changed (%d → %d); want it written in the padding", compress, n, len(meta), i, p != first, used, s.Used())
				}
			}
		}
		s.Close()
	}
}
