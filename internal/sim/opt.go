package sim

// OPT returns the hits of Bélády's optimal policy with bypass over keys for a
// cache of capacity entries: on a miss with a full cache, the resident key reused
// furthest in the future leaves, unless the newcomer itself is reused later than
// every resident key (or never), in which case the newcomer is not admitted. A key
// that will not be requested again leaves at its last request.
func OPT(keys []uint64, capacity int) int {
	next := nextUse(keys)
	resident := make(map[uint64]int, capacity) // key -> its next use
	var h maxHeap                              // next uses of resident keys, lazily pruned
	hits := 0
	for i, k := range keys {
		_, hit := resident[k]
		if hit {
			hits++
			delete(resident, k)
		}
		if next[i] == never || capacity == 0 {
			continue
		}
		if !hit && len(resident) >= capacity {
			far := h.top(keys, resident)
			if far < next[i] {
				continue // bypass: the newcomer is the furthest
			}
			h.pop()
			delete(resident, keys[far])
		}
		resident[k] = next[i]
		h.push(next[i])
	}
	return hits
}

// never is the next use of a key that is not requested again.
const never = int(^uint(0) >> 1)

// nextUse returns, for each request, the index of the next request of its key.
func nextUse(keys []uint64) []int {
	next := make([]int, len(keys))
	last := make(map[uint64]int)
	for i := len(keys) - 1; i >= 0; i-- {
		if j, ok := last[keys[i]]; ok {
			next[i] = j
		} else {
			next[i] = never
		}
		last[keys[i]] = i
	}
	return next
}

// maxHeap holds request indexes, the furthest first. An entry is current when
// the key requested there is resident and that index is still its next use.
type maxHeap []int

func (h *maxHeap) push(x int) {
	*h = append(*h, x)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p] >= s[i] {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *maxHeap) pop() {
	s := *h
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	*h = s
	for i := 0; ; {
		c := 2*i + 1
		if c >= len(s) {
			return
		}
		if c+1 < len(s) && s[c+1] > s[c] {
			c++
		}
		if s[i] >= s[c] {
			return
		}
		s[i], s[c] = s[c], s[i]
		i = c
	}
}

// top drops stale entries and returns the furthest current next use.
func (h *maxHeap) top(keys []uint64, resident map[uint64]int) int {
	for {
		i := (*h)[0]
		if use, ok := resident[keys[i]]; ok && use == i {
			return i
		}
		h.pop()
	}
}
