package observe

// HeapSeries returns, for each site of function in the Optimizer's heap
// profiles, its in-use bytes in each profile: what leak detection saw.
func HeapSeries(o *Optimizer, function string) map[Site][]int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[Site][]int64{}
	hs := o.heaps.values()
	for i, h := range hs {
		for id, b := range h.sites {
			site := h.names[id]
			if site.Function != function {
				continue
			}
			if out[site] == nil {
				out[site] = make([]int64, len(hs))
			}
			out[site][i] = b.inUseBytes
		}
	}
	return out
}
