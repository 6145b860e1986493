package ttl_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tiermem/tiermem/internal/ttl"
)

// TestPopsInOrder pushes random instants and checks they come out sorted,
// also after a Filter in the middle.
func TestPopsInOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 17, 1000} {
		var h ttl.Heap[int]
		var want []int64
		for i := range n {
			at := rng.Int64N(100)
			h.Push(ttl.Item[int]{At: at, Key: i})
			if i%3 != 0 {
				want = append(want, at)
			}
		}
		h.Filter(func(it ttl.Item[int]) bool { return it.Key%3 != 0 })
		slices.Sort(want)
		var got []int64
		for h.Len() > 0 {
			got = append(got, h.Peek().At)
			h.Pop()
		}
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d: popped %v, want %v", n, got, want)
		}
	}
}

// TestCountDue counts the live items due by each instant against a scan.
func TestCountDue(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 17, 1000} {
		var h ttl.Heap[int]
		for i := range n {
			h.Push(ttl.Item[int]{At: rng.Int64N(100), Key: i})
		}
		live := func(it ttl.Item[int]) bool { return it.Key%4 != 0 }
		for now := int64(-1); now <= 100; now += 7 {
			want := 0
			for _, it := range h {
				if it.At <= now && live(it) {
					want++
				}
			}
			if got := h.CountDue(now, live); got != want {
				t.Fatalf("n=%d, now=%d: CountDue = %d, want %d", n, now, got, want)
			}
		}
	}
}

func ExampleHeap() {
	var h ttl.Heap[string]
	h.Push(ttl.Item[string]{At: 30, Key: "c"})
	h.Push(ttl.Item[string]{At: 10, Key: "a"})
	h.Push(ttl.Item[string]{At: 20, Key: "b"})
	for h.Len() > 0 && h.Peek().At <= 20 {
		fmt.Println(h.Peek().Key)
		h.Pop()
	}
	// Output:
	// a
	// b
}
