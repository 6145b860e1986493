package sim

// OPT returns the hits of Bélády's optimal policy with bypass over keys for a
// cache of capacity entries: on a miss with a full cache, the resident key reused
// furthest in the future leaves, unless the newcomer itself is reused later than
// every resident key (or never), in which case the newcomer is not admitted. A key
// that will not be requested again leaves at its last request.
func OPT(keys []uint64, capacity int) int {
	return opt(keys, nextUse(keys), capacity, nil)
}

// opt is OPT with the next uses of keys computed by the caller (they do not
// depend on the capacity, so replays at several sizes share them). progress,
// if not nil, is called with the requests replayed since its last call.
// Memory beyond keys and next is in the capacity, not in the trace.
func opt(keys []uint64, next []int, capacity int, progress func(int)) int {
	resident := make(map[uint64]int, min(capacity, len(keys))) // key -> its next use
	var h maxHeap                                              // next uses of resident keys, lazily pruned
	hits := 0
	for i, k := range keys {
		if progress != nil && i%progressStep == progressStep-1 {
			progress(progressStep)
		}
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
		if len(h) > 2*len(resident)+1024 {
			h.prune(keys, resident)
		}
	}
	if progress != nil {
		progress(len(keys) % progressStep)
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
	*h = s[:last]
	h.down(0)
}

// down moves the entry at i down to its place.
func (h maxHeap) down(i int) {
	for {
		c := 2*i + 1
		if c >= len(h) {
			return
		}
		if c+1 < len(h) && h[c+1] > h[c] {
			c++
		}
		if h[i] >= h[c] {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

// current reports whether entry i is current.
func current(i int, keys []uint64, resident map[uint64]int) bool {
	use, ok := resident[keys[i]]
	return ok && use == i
}

// top drops stale entries and returns the furthest current next use.
func (h *maxHeap) top(keys []uint64, resident map[uint64]int) int {
	for !current((*h)[0], keys, resident) {
		h.pop()
	}
	return (*h)[0]
}

// prune drops every stale entry and rebuilds the heap, so that it holds about
// as many entries as there are resident keys, not one per request.
func (h *maxHeap) prune(keys []uint64, resident map[uint64]int) {
	s := (*h)[:0]
	for _, i := range *h {
		if current(i, keys, resident) {
			s = append(s, i)
		}
	}
	*h = s
	for i := len(s)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}
