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
			old, had := tb.set(key, h, newEntry(key, []byte(v), nil))
			want, wantHad := model[key]
			if had != wantHad || had && string(old.value()) != want {
				t.Fatalf("set %s: replaced %q (%v), want %q (%v)", key, old.value(), had, want, wantHad)
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
			if e, ok := tb.get(k, hashOf(k)); !ok || string(e.value()) != v || e.key() != k {
				t.Fatalf("after step %d: get %s = %q, %v; want %q", i, k, e.value(), ok, v)
			}
		}
		seen := map[string]int{}
		tb.each(func(k string, e entry) bool { seen[k]++; return true })
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
