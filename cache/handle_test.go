package cache_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tiermem/tiermem/cache"
)

// TestHandlePolicyMatchesPolicy drives a HandlePolicy and the Policy of the
// same kind through one random script of adds, hits (one at a time, and in
// batches through AccessAll), weight changes,
// removals, late reports on removed handles and admission questions; both
// must name the same victims and agree on length and weight at every step.
func TestHandlePolicyMatchesPolicy(t *testing.T) {
	for _, kind := range []cache.Kind{cache.Adaptive, cache.LRU, cache.LFU, cache.FIFO, cache.S3FIFO} {
		for _, capacity := range []int64{10, 300} {
			t.Run(fmt.Sprintf("%v/%d", kind, capacity), func(t *testing.T) {
				handleScript(t, kind, capacity, 40_000)
			})
		}
	}
}

func handleScript(t *testing.T, kind cache.Kind, capacity int64, steps int) {
	keyed, err := cache.NewPolicy[int](kind, capacity)
	if err != nil {
		t.Fatal(err)
	}
	hp, err := cache.NewHandlePolicy[int](kind, capacity)
	if err != nil {
		t.Fatal(err)
	}
	handles := map[int]*cache.Handle[int]{} // resident ones
	var gone []*cache.Handle[int]           // removed ones, for late reports
	rng := rand.New(rand.NewPCG(uint64(kind), uint64(capacity)))
	evict := func(step int) {
		for keyed.Weight() > capacity {
			k, ok := keyed.Victim()
			h, hok := hp.Victim()
			if !ok || !hok || h.Key() != k {
				t.Fatalf("step %d: keyed victim %d (%v), handle victim %v", step, k, ok, h)
			}
			keyed.Remove(k)
			hp.Remove(h)
			delete(handles, k)
			gone = append(gone, h)
		}
	}
	for step := range steps {
		k := int(rng.ExpFloat64() * float64(capacity))
		w := int64(1 + rng.IntN(3))
		switch op := rng.IntN(12); {
		case op < 6: // a request: a hit, or a miss that adds
			if h, ok := handles[k]; ok && op < 4 {
				keyed.Access(k)
				hp.Access(h)
				break
			} else if ok { // hits handed over in a batch, with a late report among them
				k2 := int(rng.ExpFloat64() * float64(capacity))
				batch := []*cache.Handle[int]{h}
				if len(gone) > 0 {
					batch = append(batch, gone[rng.IntN(len(gone))])
				}
				keyed.Access(k)
				if h2, ok := handles[k2]; ok {
					batch = append(batch, h2)
					keyed.Access(k2)
				}
				batch = append(batch, h)
				keyed.Access(k)
				hp.AccessAll(batch)
				break
			}
			keyed.Add(k, w)
			h := &cache.Handle[int]{}
			if len(gone) > 0 && rng.IntN(2) == 0 { // a removed handle comes back for another key
				h, gone = gone[len(gone)-1], gone[:len(gone)-1]
			}
			hp.Add(h, k, w)
			handles[k] = h
			evict(step)
		case op < 8: // a resident key's weight changes, and it is hit
			if h, ok := handles[k]; ok {
				keyed.Update(k, w)
				keyed.Access(k)
				hp.Update(h, w)
				hp.Access(h)
				if h.Weight() != w {
					t.Fatalf("step %d: weight %d, want %d", step, h.Weight(), w)
				}
				evict(step)
			}
		case op < 9:
			if h, ok := handles[k]; ok {
				keyed.Remove(k)
				hp.Remove(h)
				delete(handles, k)
				gone = append(gone, h)
			}
		case op < 11: // late reports on a removed handle change nothing
			if len(gone) > 0 {
				h := gone[rng.IntN(len(gone))]
				hp.Access(h)
				hp.Update(h, w)
				hp.Remove(h)
				if h.Resident() {
					t.Fatalf("step %d: a removed handle is resident", step)
				}
			}
		default:
			if keyed.Admit(k, k+1) != hp.Admit(k, k+1) {
				t.Fatalf("step %d: Admit differs", step)
			}
		}
		if keyed.Len() != hp.Len() || keyed.Weight() != hp.Weight() || len(handles) != hp.Len() {
			t.Fatalf("step %d: keyed %d keys weighing %d, handles %d weighing %d, test %d",
				step, keyed.Len(), keyed.Weight(), hp.Len(), hp.Weight(), len(handles))
		}
	}
}

// TestHandlePolicyAddResident checks that adding a resident handle again is
// an update and a hit, as Policy.Add of a resident key is: the key stays.
func TestHandlePolicyAddResident(t *testing.T) {
	p, err := cache.NewHandlePolicy[string](cache.LRU, 100)
	if err != nil {
		t.Fatal(err)
	}
	var a, b cache.Handle[string]
	p.Add(&a, "a", 1)
	p.Add(&b, "b", 1)
	p.Add(&a, "ignored", 5)
	if a.Key() != "a" || a.Weight() != 5 || p.Weight() != 6 || p.Len() != 2 {
		t.Fatalf("key %q weight %d, policy %d keys weighing %d", a.Key(), a.Weight(), p.Len(), p.Weight())
	}
	if v, _ := p.Victim(); v != &b {
		t.Fatalf("victim %q, want b (a was hit by its second Add)", v.Key())
	}
}

func TestNewHandlePolicyErrors(t *testing.T) {
	if _, err := cache.NewHandlePolicy[int](cache.Kind(99), 10); !errors.Is(err, cache.ErrPolicy) {
		t.Errorf("unknown kind: %v", err)
	}
	if _, err := cache.NewHandlePolicy[int](cache.LRU, 0); !errors.Is(err, cache.ErrCapacity) {
		t.Errorf("capacity 0: %v", err)
	}
}

// ExampleHandlePolicy keeps the policy's handle inside the owner's own
// entries: the owner's map is the only index of the keys.
func ExampleHandlePolicy() {
	type entry struct {
		h     cache.Handle[string]
		value string
	}
	entries := map[string]*entry{}
	policy, err := cache.NewHandlePolicy[string](cache.LRU, 2) // two entries of weight 1
	if err != nil {
		panic(err)
	}
	set := func(key, value string) {
		e := &entry{value: value}
		entries[key] = e
		policy.Add(&e.h, key, 1)
		for policy.Weight() > 2 {
			victim, _ := policy.Victim()
			fmt.Println("evict", victim.Key())
			delete(entries, victim.Key())
			policy.Remove(victim)
		}
	}
	set("a", "1")
	set("b", "2")
	policy.Access(&entries["a"].h) // a hit: b is now the least recently used
	set("c", "3")
	fmt.Println(len(entries), policy.Len())
	// Output:
	// evict b
	// 2 2
}
