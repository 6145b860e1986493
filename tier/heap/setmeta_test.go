package heap

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// Random Puts, SetMetas and Deletes against a model, in a store with a
// policy whose Exempt looks at the meta, checking values, metas, Used, and
// the policy's own count and weight (every choosable entry in it, at its
// size; no exempt one), and that a value lent before a SetMeta stays as
// it was.
func TestSetMetaPolicyModel(t *testing.T) {
	s, err := NewWithPolicy(PolicyOptions{Capacity: 1 << 30, Exempt: func(m []byte) bool { return len(m) > 0 && m[0] == 'P' }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	valueLens := []int{0, 1, 7, 8, 100, 4096, 65500, 65528, 65536, 70000}
	metaLens := []int{0, 1, 2, 3, 7, 8, 10, 16, 300}
	type entry struct{ v, m []byte }
	model := map[string]entry{}
	type loan struct{ lent, want []byte }
	var loans []loan
	mk := func(n int, pin bool) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if n > 0 {
			b[0] = 'x'
			if pin {
				b[0] = 'P'
			}
		}
		return b
	}
	for step := range 1500 {
		key := fmt.Sprint("k", rng.IntN(10))
		switch op := rng.IntN(10); {
		case op < 3:
			v, m := mk(valueLens[rng.IntN(len(valueLens))], false), mk(metaLens[rng.IntN(len(metaLens))], rng.IntN(3) == 0)
			if _, err := s.Put(key, v, m); err != nil {
				t.Fatal(err)
			}
			model[key] = entry{v, m}
		case op < 9:
			m := mk(metaLens[rng.IntN(len(metaLens))], rng.IntN(3) == 0)
			if e, ok := model[key]; ok && s.Lends(len(e.v)) {
				_ = s.View(key, func(v []byte) error { loans = append(loans, loan{v, e.v}); return nil })
			}
			_, err := s.SetMeta(key, m, 1<<30)
			e, ok := model[key]
			if !ok {
				if err == nil {
					t.Fatal("SetMeta of an absent key")
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			model[key] = entry{e.v, m}
		default:
			if _, err := s.Delete(key); (err == nil) != (model[key].v != nil) {
				t.Fatalf("Delete: %v", err)
			}
			delete(model, key)
		}
		var sum, psum int64
		choosable := 0
		for k, e := range model {
			err := s.ViewMeta(k, func(v, m []byte) error {
				if !bytes.Equal(v, e.v) || !bytes.Equal(m, e.m) {
					return fmt.Errorf("value %d/%d meta %q/%q", len(v), len(e.v), m, e.m)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("step %d %q: %v", step, k, err)
			}
			n, _ := s.Size(k)
			sum += n
			if len(e.m) == 0 || e.m[0] != 'P' {
				choosable++
				psum += n
			}
		}
		s.policy.mu.Lock()
		pl, pw := s.policy.p.Len(), s.policy.p.Weight()
		s.policy.mu.Unlock()
		if s.Used() != sum || s.Len() != int64(len(model)) || pl != choosable || pw != psum {
			t.Fatalf("step %d: Used %d, sum %d; Len %d, %d; policy %d keys of weight %d, want %d of %d",
				step, s.Used(), sum, s.Len(), len(model), pl, pw, choosable, psum)
		}
		for _, l := range loans {
			if !bytes.Equal(l.lent, l.want) {
				t.Fatalf("step %d: a lent value changed", step)
			}
		}
	}
	runtime.KeepAlive(loans)
}
