package cache

// expiryHeap orders the keys that have a TTL by expiry time, soonest first. It
// is lazy: an entry replaced or removed leaves its item behind, and an item
// counts only while the key's live entry still has the item's expiry time.
type expiryHeap[K comparable] []expiryItem[K]

type expiryItem[K comparable] struct {
	expire int64
	key    K
}

func (h *expiryHeap[K]) push(it expiryItem[K]) {
	*h = append(*h, it)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p].expire <= s[i].expire {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

// peek returns the soonest item; the heap must not be empty.
func (h expiryHeap[K]) peek() expiryItem[K] { return h[0] }

func (h *expiryHeap[K]) pop() {
	s := *h
	last := len(s) - 1
	s[0] = s[last]
	s[last] = expiryItem[K]{}
	s = s[:last]
	*h = s
	h.down(0)
}

func (h expiryHeap[K]) down(i int) {
	for {
		c := 2*i + 1
		if c >= len(h) {
			return
		}
		if c+1 < len(h) && h[c+1].expire < h[c].expire {
			c++
		}
		if h[i].expire <= h[c].expire {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

// filter keeps the items for which live returns true and restores the order.
func (h *expiryHeap[K]) filter(live func(expiryItem[K]) bool) {
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
}
