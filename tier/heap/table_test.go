package heap

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"testing"
)

// TestTable drives a table with random sets, deletes and lookups against a
// Go map as the model: every key is found with its newest value, exactly
// once by each, and nowhere after its delete. The hashes are the store's
// own, or few for many keys (long runs of equal hashes, whose deletes move
// entries back over each other), or equal in their top bits (one home for
// every key: runs that wrap around the array's end), and the key count
// swings so that the array grows and shrinks.
func TestTable(t *testing.T) {
	for _, c := range []struct {
		name   string
		hashOf func(key string) uint64
	}{
		{"maphash", func(key string) uint64 { return maphash.String(shardSeed, key) }},
		{"three hashes", func(key string) uint64 { return uint64(len(key)) % 3 << 60 }},
		{"one home", func(key string) uint64 { return maphash.String(shardSeed, key) >> 8 }},
		{"last home", func(key string) uint64 { return ^uint64(0) - uint64(len(key)) }},
	} {
		t.Run(c.name, func(t *testing.T) { testTable(t, c.hashOf) })
	}
}

func testTable(t *testing.T, hashOf func(string) uint64) {
	r := rand.New(rand.NewPCG(3, 4))
	var tb table
	model := map[string]string{}
	grew, size, shrank := 0, 0, 0
	for i := range 20000 {
		op := r.IntN(3)
		key := fmt.Sprint("k", r.IntN(40))
		if i/2000%2 == 1 { // a phase of deletes and few keys: the array shrinks
			if op = 2 - r.IntN(3)/2; op == 0 {
				key = fmt.Sprint("k", r.IntN(3))
			}
		}
		h := hashOf(key)
		switch op {
		case 0, 1:
			v := fmt.Sprint("v", i)
			it, had := tb.get(key, h)
			want, wantHad := model[key]
			if had != wantHad || had && string(it.value()) != want {
				t.Fatalf("set %s: found %v (%v), want %q (%v)", key, it, had, want, wantHad)
			}
			if had {
				tb.ref(key, h).rewrite([]byte(v), nil)
			} else {
				tb.insert(h, newSlot(key, []byte(v), nil, 0, nil))
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
		if tb.n != len(model) || tb.n > 0 && 4*tb.n > 3*len(tb.buckets) {
			t.Fatalf("after step %d: %d entries in %d buckets, the model holds %d", i, tb.n, len(tb.buckets), len(model))
		}
		if len(tb.buckets) < size {
			shrank++
		}
		size = len(tb.buckets)
		grew = max(grew, size)
	}
	if grew < 64 || shrank == 0 {
		t.Fatalf("the array grew to %d buckets and shrank %d times: growth or shrinking untested", grew, shrank)
	}
}
