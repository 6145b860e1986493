package cache

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestEntrySize pins the layout that makes a Cache cheap: the node first (so
// that entryOf holds) and, for uint64 keys and values, one 64-byte size class.
func TestEntrySize(t *testing.T) {
	var e entry[uint64, uint64]
	if off := unsafe.Offsetof(e.node); off != 0 {
		t.Errorf("node at offset %d, want 0", off)
	}
	if size := unsafe.Sizeof(e); size != 64 {
		t.Errorf("entry[uint64, uint64] is %d bytes, want 64", size)
	}
	if got := entryOf[uint64, uint64](&e.node); got != &e {
		t.Error("entryOf does not find the entry of its node")
	}
}

// TestLinkedMatchesKeyed drives each kind's linked policy, with nodes the test
// owns as a Cache would (a new node for each change of weight, put in the old
// one's place by replace), and the keyed policy of the same kind through the
// same random script; both must name the same victims and agree on length and
// weight after every step.
func TestLinkedMatchesKeyed(t *testing.T) {
	for _, kind := range []Kind{Adaptive, LRU, LFU, FIFO, S3FIFO} {
		for _, capacity := range []int64{10, 200} {
			t.Run(fmt.Sprintf("%v/%d", kind, capacity), func(t *testing.T) {
				matchScript(t, kind, capacity, 30_000)
			})
		}
	}
}

func matchScript(t *testing.T, kind Kind, capacity int64, steps int) {
	keyed, err := NewPolicy[int](kind, capacity)
	if err != nil {
		t.Fatal(err)
	}
	lp, err := newLinked[int](kind, capacity)
	if err != nil {
		t.Fatal(err)
	}
	nodes := map[int]*node[int]{} // the residents of both
	rng := rand.New(rand.NewPCG(uint64(kind), uint64(capacity)))
	evict := func(step int) {
		for keyed.Weight() > capacity {
			k, ok := keyed.Victim()
			n := lp.victim()
			if !ok || n == nil || n.key != k {
				t.Fatalf("step %d: keyed victim %d (%v), linked %v", step, k, ok, n)
			}
			keyed.Remove(k)
			lp.remove(n)
			delete(nodes, k)
		}
	}
	for step := range steps {
		k := int(rng.ExpFloat64() * float64(capacity))
		w := int64(1 + rng.IntN(3))
		switch op := rng.IntN(10); {
		case op < 5: // a request: a hit, or a miss that adds
			if n, ok := nodes[k]; ok {
				keyed.Access(k)
				lp.access(n)
				break
			}
			keyed.Add(k, w)
			n := &node[int]{key: k, weight: w}
			lp.add(n)
			nodes[k] = n
			evict(step)
		case op < 8: // a Set of a resident key with a new weight
			old, ok := nodes[k]
			if !ok {
				break
			}
			keyed.Update(k, w)
			keyed.Access(k)
			n := &node[int]{key: k, weight: w}
			lp.replace(old, n)
			lp.access(n)
			nodes[k] = n
			if old.prev != nil || old.next != nil {
				t.Fatalf("step %d: the replaced node is still linked", step)
			}
			evict(step)
		case op < 9:
			if n, ok := nodes[k]; ok {
				keyed.Remove(k)
				lp.remove(n)
				delete(nodes, k)
			}
		default:
			if keyed.Admit(k, k+1) != lp.admitKey(k, k+1) {
				t.Fatalf("step %d: Admit differs", step)
			}
		}
		if keyed.Len() != lp.size() || keyed.Weight() != lp.total() || len(nodes) != lp.size() {
			t.Fatalf("step %d: keyed %d keys weighing %d, linked %d weighing %d, test %d",
				step, keyed.Len(), keyed.Weight(), lp.size(), lp.total(), len(nodes))
		}
	}
}
