package ttl_test

import (
	"testing"

	"github.com/tiermem/tiermem/internal/ttl"
)

// burst is a heap of n items, at 0 to n-1.
func burst(n int) ttl.Heap[int] {
	var h ttl.Heap[int]
	for i := range n {
		h.Push(ttl.Item[int]{At: int64(i), Key: i})
	}
	return h
}

// TestShrinksAfterABurst: once the items of a burst have expired, by Pop or
// by Filter, the heap gives back its array rather than keeping room for the
// burst for the rest of the process, and still pops in order.
func TestShrinksAfterABurst(t *testing.T) {
	const n, left = 100_000, 10
	popped := burst(n)
	for popped.Len() > left {
		popped.Pop()
	}
	filtered := burst(n)
	filtered.Filter(func(it ttl.Item[int]) bool { return it.Key >= n-left })
	for name, h := range map[string]ttl.Heap[int]{"Pop": popped, "Filter": filtered} {
		if c := cap(h); c > 1024 {
			t.Errorf("after %s down to %d items of %d, the heap keeps room for %d", name, left, n, c)
		}
		for at := int64(n - left); h.Len() > 0; at++ {
			if got := h.Peek().At; got != at {
				t.Fatalf("after %s, popped %d, want %d", name, got, at)
			}
			h.Pop()
		}
	}
}
