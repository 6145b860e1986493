package heap

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestTableWithCollidingHashes drives a table with random sets, deletes and
// lookups of keys that share few hashes (so that most land in the spill
// map, and keys move between the two maps as others leave), against a Go
// map as the model: every key is found with its newest value, exactly once
// by each, and nowhere after its delete.
func TestTableWithCollidingHashes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var tb table
	model := map[string]string{}
	hashOf := func(key string) uint64 { return uint64(len(key)) % 3 } // 3 hashes for all keys
	for i := range 20000 {
		key := fmt.Sprint("k", r.IntN(40))
		h := hashOf(key)
		switch r.IntN(3) {
		case 0, 1:
			v := fmt.Sprint("v", i)
			it, had := tb.get(key, h)
			want, wantHad := model[key]
			if had != wantHad || had && string(it.value()) != want {
				t.Fatalf("set %s: found %v (%v), want %q (%v)", key, it, had, want, wantHad)
			}
			if had {
				moved := it.rewrite([]byte(v), nil)
				tb.update(h, it, moved)
			} else {
				tb.insert(h, newSlot(key, []byte(v), nil, 0, false))
			}
			model[key] = v
		case 2:
			old, had := tb.del(key, h)
			want, wantHad := model[key]
			if had != wantHad || had && string(old.value()) != want {
				t.Fatalf("del %s: %q (%v), want %q (%v)", key, old.value(), had, want, wantHad)
			}
			delete(model, key)
		}
		for k, v := range model {
			if it, ok := tb.get(k, hashOf(k)); !ok || string(it.value()) != v || it.key() != k {
				t.Fatalf("after step %d: get %s = %v, %v; want %q", i, k, it, ok, v)
			}
		}
		seen := map[string]int{}
		tb.each(func(e slot) bool { seen[e.key()]++; return true })
		if len(seen) != len(model) {
			t.Fatalf("after step %d: each saw %d keys, the model holds %d", i, len(seen), len(model))
		}
		for k, n := range seen {
			if n != 1 || model[k] == "" {
				t.Fatalf("after step %d: each saw %s %d times (in the model: %v)", i, k, n, model[k] != "")
			}
		}
	}
	if len(tb.spill) == 0 {
		t.Fatal("no key ever spilled: the test did not test collisions")
	}
}
