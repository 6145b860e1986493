package observe

import (
	"cmp"
	"slices"
)

// HotSpot is a function that allocates much: its allocations over the
// report's window (the heap profiles it compared), estimated from the
// runtime's sampled heap profile.
type HotSpot struct {
	Site         Site    `json:"site"` // the function, at its busiest allocating line
	AllocBytes   int64   `json:"alloc_bytes"`
	AllocObjects int64   `json:"alloc_objects"`
	ByteShare    float64 `json:"byte_share"`   // of all bytes allocated in the window, 0 to 1
	ObjectShare  float64 `json:"object_share"` // of all objects allocated in the window, 0 to 1
}

// HotSpots holds the top functions by allocated bytes and by allocated
// objects.
type HotSpots struct {
	ByBytes   []HotSpot `json:"by_bytes"`
	ByObjects []HotSpot `json:"by_objects"`
}

// hotSpotsBetween ranks functions by what they allocated between two heap
// profiles of one profiler (from the start of the process when first is
// nil) and keeps the top n of each ranking.
func hotSpotsBetween(first *heapProfile, last heapProfile, n int) HotSpots {
	byFunc, busiest := map[string]*HotSpot{}, map[string]int64{}
	var bytes, objects int64
	for id, b := range last.sites {
		site := last.names[id]
		if first != nil {
			a := first.at(id)
			b.allocBytes, b.allocObjects = b.allocBytes-a.allocBytes, b.allocObjects-a.allocObjects
		}
		if b.allocBytes <= 0 {
			continue
		}
		h := byFunc[site.Function]
		if h == nil {
			h = &HotSpot{}
			byFunc[site.Function] = h
		}
		if b.allocBytes > busiest[site.Function] {
			busiest[site.Function], h.Site = b.allocBytes, site
		}
		h.AllocBytes += b.allocBytes
		h.AllocObjects += b.allocObjects
		bytes += b.allocBytes
		objects += b.allocObjects
	}
	all := make([]HotSpot, 0, len(byFunc))
	for _, h := range byFunc {
		h.ByteShare = share(h.AllocBytes, bytes)
		h.ObjectShare = share(h.AllocObjects, objects)
		all = append(all, *h)
	}
	return HotSpots{ByBytes: top(all, n, func(h HotSpot) int64 { return h.AllocBytes }),
		ByObjects: top(all, n, func(h HotSpot) int64 { return h.AllocObjects })}
}

func top(all []HotSpot, n int, key func(HotSpot) int64) []HotSpot {
	s := slices.Clone(all)
	slices.SortFunc(s, func(a, b HotSpot) int {
		return cmp.Or(cmp.Compare(key(b), key(a)), cmp.Compare(a.Site.Function, b.Site.Function))
	})
	return s[:min(n, len(s))]
}

func share(part, whole int64) float64 {
	if whole <= 0 {
		return 0
	}
	return float64(part) / float64(whole)
}
