package tiermem

// prepareBatch is the most keys PrepareLookups hands a tier at once: enough
// to overlap the memory latencies of a batch, few enough to stay in the
// CPU's cache until the lookups come.
const prepareBatch = 32

// PrepareLookups tells the Manager that the keys are about to be looked up
// (read, stored or deleted), in that order. The memory tiers that can start
// loading their index entries of the keys into the CPU's cache, all at once,
// so that the lookups that follow do not each wait for memory in turn: with
// more keys than the CPU's cache holds, a pipeline of requests runs faster
// when its keys are prepared first (package server does so).
//
// It is a hint: it changes nothing a caller can see, counts no read, and
// costs a hash and a probe per key when the keys are not there. It keeps no
// reference to keys, which must not change during the call. It is safe for
// concurrent use, and does nothing after Close.
func (m *Manager) PrepareLookups(keys [][]byte) {
	for len(keys) > 0 {
		n := min(len(keys), prepareBatch)
		for _, t := range m.tiers {
			if t.preparer != nil {
				t.preparer.PrepareLookups(keys[:n])
			}
		}
		keys = keys[n:]
	}
}
