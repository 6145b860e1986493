package cache

import (
	"slices"
	"testing"
)

// keysOf returns the keys of l from front to back, checking each node's queue.
func keysOf(t *testing.T, l *list[uint64], q uint8) []uint64 {
	t.Helper()
	var out []uint64
	for n := l.front(); n != nil && n != &l.root; n = n.next {
		if n.queue != q {
			t.Errorf("key %d in queue %d, want %d", n.key, n.queue, q)
		}
		out = append(out, n.key)
	}
	return out
}

// filled returns a full tinyLFU of 100 keys; the even keys below 100 are
// reused, and some of them protected.
func filled() *shadow {
	p := newShadow(100, tuning{0.01, true})
	for i := range uint64(1000) {
		k := i % 100 // even keys below 100: reused, protected
		if i%2 == 1 {
			k = 1000 + i // seen once
		}
		p.request(k, 100)
	}
	return p
}

func TestTakeFront(t *testing.T) {
	var a, b list[uint64]
	a.init()
	b.init()
	for k := range uint64(3) {
		a.pushBack(&node[uint64]{key: k, weight: 1, queue: inProbation})
		b.pushBack(&node[uint64]{key: 10 + k, weight: 2, queue: inProtected})
	}
	a.takeFront(&b, inProbation)
	if got := keysOf(t, &a, inProbation); !slices.Equal(got, []uint64{10, 11, 12, 0, 1, 2}) {
		t.Errorf("after takeFront: %v", got)
	}
	if a.len != 6 || a.weight != 9 || b.len != 0 || b.weight != 0 || b.front() != nil {
		t.Errorf("len %d weight %d, emptied list len %d weight %d", a.len, a.weight, b.len, b.weight)
	}
	b.pushBack(&node[uint64]{key: 20, weight: 1}) // the emptied list is usable
	if b.front().key != 20 {
		t.Error("the emptied list lost a push")
	}
}

func TestForget(t *testing.T) {
	p := filled()
	if p.protected.len == 0 {
		t.Fatal("no protected keys to forget")
	}
	prot, prob := keysOf(t, &p.protected, inProtected), keysOf(t, &p.probation, inProbation)
	n, w := len(p.nodes), p.total()
	p.forget()
	if got := keysOf(t, &p.probation, inProbation); !slices.Equal(got, append(prot, prob...)) {
		t.Errorf("probation after forget: %v, want the protected keys %v before %v", got, prot, prob)
	}
	if p.protected.len != 0 || len(p.nodes) != n || p.total() != w {
		t.Errorf("protected %d, keys %d (was %d), weight %d (was %d)", p.protected.len, len(p.nodes), n, p.total(), w)
	}
	for k := range uint64(50) {
		if f := p.sketch.frequency(hashKey(k)); f != 0 {
			t.Fatalf("key %d has frequency %d after forget", k, f)
		}
	}
}

func TestClone(t *testing.T) {
	p := filled()
	c := p.clone()
	for q := inWindow; q <= inProtected; q++ {
		if a, b := keysOf(t, p.queue(q), q), keysOf(t, c.queue(q), q); !slices.Equal(a, b) {
			t.Errorf("queue %d: clone %v, original %v", q, b, a)
		}
	}
	c.forget() // the copy's changes must not reach the original
	if p.protected.len == 0 || p.sketch.frequency(hashKey(2)) == 0 {
		t.Errorf("forgetting the clone changed the original: protected %d, frequency %d", p.protected.len, p.sketch.frequency(hashKey(uint64(2))))
	}
	if len(c.nodes) != len(p.nodes) {
		t.Errorf("clone has %d keys, original %d", len(c.nodes), len(p.nodes))
	}
}
