// Package ttl orders keys by when they expire, soonest first, for the
// caches and tiers that delete expired entries without looking at the rest.
package ttl

// Item is a key and the instant it expires (any monotonic unit the owner
// chooses, Unix nanoseconds in this module).
type Item[K comparable] struct {
	At  int64
	Key K
}

// Heap is a min-heap of items by At. It is lazy: an owner that replaces or
// removes a key leaves its item behind and skips it when it surfaces, since
// an item counts only while the key still expires at its At; Filter drops
// such items in bulk. The zero value is an empty heap. A Heap is not safe
// for concurrent use: its owner holds the lock.
type Heap[K comparable] []Item[K]

// Push adds an item.
func (h *Heap[K]) Push(it Item[K]) {
	*h = append(*h, it)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p].At <= s[i].At {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

// Len returns the number of items, stale ones included.
func (h Heap[K]) Len() int { return len(h) }

// Peek returns the soonest item; the heap must not be empty.
func (h Heap[K]) Peek() Item[K] { return h[0] }

// Pop removes the soonest item; the heap must not be empty.
func (h *Heap[K]) Pop() {
	s := *h
	last := len(s) - 1
	s[0] = s[last]
	s[last] = Item[K]{}
	*h = s[:last]
	h.down(0)
	h.shrink()
}

// minShrink is the capacity up to which a Heap keeps its array however few
// items it holds: below it, a new array saves less than it costs.
const minShrink = 64

// shrink moves the items to an array of twice their number once they fill
// less than a quarter of theirs, so that a heap gives back the memory of a
// burst once it has expired. Halving before it shrinks again keeps Pop
// amortized O(1), and the room left keeps Push from growing it at once.
func (h *Heap[K]) shrink() {
	if n := len(*h); cap(*h) > minShrink && n < cap(*h)/4 {
		*h = append(make(Heap[K], 0, 2*n), *h...)
	}
}

func (h Heap[K]) down(i int) {
	for {
		c := 2*i + 1
		if c >= len(h) {
			return
		}
		if c+1 < len(h) && h[c+1].At < h[c].At {
			c++
		}
		if h[i].At <= h[c].At {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

// CountDue returns how many items at or before now live counts: those a
// loop of Peek and Pop up to now would find. It visits only them and their
// children, not the whole heap.
func (h Heap[K]) CountDue(now int64, live func(Item[K]) bool) int {
	n := 0
	var stack []int
	if len(h) > 0 {
		stack = append(stack, 0)
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if h[i].At > now {
			continue // and so are its children
		}
		if live(h[i]) {
			n++
		}
		for c := 2*i + 1; c <= 2*i+2 && c < len(h); c++ {
			stack = append(stack, c)
		}
	}
	return n
}

// Filter keeps the items for which live returns true and restores the order.
func (h *Heap[K]) Filter(live func(Item[K]) bool) {
	s := (*h)[:0]
	for _, it := range *h {
		if live(it) {
			s = append(s, it)
		}
	}
	clear((*h)[len(s):])
	*h = s
	for i := len(s)/2 - 1; i >= 0; i-- {
		s.down(i)
	}
	h.shrink()
}
