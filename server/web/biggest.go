package web

import (
	"container/heap"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tiermem/tiermem"
)

// The biggest keys per tier, GET /v1/biggest?n=N: from the tiers' indexes
// (Manager.ScanInfo), so that listing them reads no value, counts no hit
// and promotes nothing. A listing costs a pass over every index; it is
// kept for biggestMaxAge and shared by every request meanwhile, so that
// any number of dashboards cost one pass per biggestMaxAge.
const (
	defaultBiggest = 10
	maxBiggest     = 100
	biggestMaxAge  = 5 * time.Second
)

// biggestJSON is the body of GET /v1/biggest.
type biggestJSON struct {
	Time  time.Time         `json:"time"` // when the indexes were read
	Tiers []tierBiggestJSON `json:"tiers"`
}

type tierBiggestJSON struct {
	Tier string        `json:"tier"`
	Keys []keyInfoJSON `json:"keys"` // largest first
}

type keyInfoJSON struct {
	Key       string     `json:"key"`  // bytes that are not UTF-8 read as U+FFFD: Path has them exactly
	Path      string     `json:"path"` // the key's /v1/keys/ path, percent-escaped
	SizeBytes int64      `json:"size_bytes"`
	Expires   *time.Time `json:"expires,omitempty"`
	Pinned    bool       `json:"pinned"`
}

// biggestCache is the latest listing, maxBiggest keys per tier.
type biggestCache struct {
	mu   sync.Mutex // held while a listing is made: one pass at a time
	at   time.Time
	tops map[tiermem.Tier][]tiermem.KeyInfo // largest first
}

func (h *Handler) serveBiggest(w http.ResponseWriter, r *http.Request) {
	n, err := biggestCount(r.URL.Query().Get("n"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	at, tops, err := h.biggest.get(h.m)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	body := biggestJSON{Time: at.UTC()}
	for _, t := range h.tiers {
		tb := tierBiggestJSON{Tier: t.String(), Keys: []keyInfoJSON{}}
		for _, k := range tops[t][:min(n, len(tops[t]))] {
			kj := keyInfoJSON{Key: k.Key, Path: keysPrefix + escapeKey(k.Key), SizeBytes: k.Size, Pinned: k.Pinned}
			if !k.Expires.IsZero() {
				e := k.Expires.UTC()
				kj.Expires = &e
			}
			tb.Keys = append(tb.Keys, kj)
		}
		body.Tiers = append(body.Tiers, tb)
	}
	writeJSON(w, body)
}

// biggestCount parses ?n=: 1 to maxBiggest, defaultBiggest when absent.
func biggestCount(v string) (int, error) {
	if v == "" {
		return defaultBiggest, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxBiggest {
		return 0, fmt.Errorf("%w: n %q: want 1 to %d keys per tier", ErrBadParam, v, maxBiggest)
	}
	return n, nil
}

// get returns the listing, made now if the kept one is older than
// biggestMaxAge.
func (c *biggestCache) get(m *tiermem.Manager) (time.Time, map[tiermem.Tier][]tiermem.KeyInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tops != nil && time.Since(c.at) < biggestMaxAge {
		return c.at, c.tops, nil
	}
	at := time.Now()
	tops, err := topKeys(m, maxBiggest)
	if err != nil {
		return time.Time{}, nil, err
	}
	c.at, c.tops = at, tops
	return at, tops, nil
}

// topKeys returns the n largest entries of each tier, largest first (ties
// by key), with memory for n entries per tier whatever the number of keys.
func topKeys(m *tiermem.Manager, n int) (map[tiermem.Tier][]tiermem.KeyInfo, error) {
	heaps := map[tiermem.Tier]*infoHeap{}
	err := m.ScanInfo(func(k tiermem.KeyInfo) bool {
		h := heaps[k.Tier]
		if h == nil {
			h = &infoHeap{}
			heaps[k.Tier] = h
		}
		if len(*h) == n {
			if !bigger(k, (*h)[0]) {
				return true
			}
			heap.Pop(h)
		}
		k.Key = strings.Clone(k.Key) // kept past the callback
		heap.Push(h, k)
		return true
	})
	if err != nil {
		return nil, err
	}
	tops := make(map[tiermem.Tier][]tiermem.KeyInfo, len(heaps))
	for t, h := range heaps {
		s := []tiermem.KeyInfo(*h)
		slices.SortFunc(s, func(a, b tiermem.KeyInfo) int {
			if bigger(a, b) {
				return -1
			}
			return 1
		})
		tops[t] = s
	}
	return tops, nil
}

// bigger orders entries by size, then by key (so that the order of equal
// sizes does not change between listings).
func bigger(a, b tiermem.KeyInfo) bool {
	if a.Size != b.Size {
		return a.Size > b.Size
	}
	return a.Key < b.Key
}

// infoHeap is a min-heap of entries: the smallest kept on top.
type infoHeap []tiermem.KeyInfo

func (h infoHeap) Len() int           { return len(h) }
func (h infoHeap) Less(i, j int) bool { return bigger(h[j], h[i]) }
func (h infoHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *infoHeap) Push(x any)        { *h = append(*h, x.(tiermem.KeyInfo)) }
func (h *infoHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// escapeKey returns key escaped as one segment of a path: the keys "." and
// ".." with their dots escaped too, so that a client resolving the path
// as a URL reference (RFC 3986 §5.2.4) does not take them for dot
// segments and ask for another path.
func escapeKey(key string) string {
	if key == "." || key == ".." {
		return strings.Repeat("%2E", len(key))
	}
	return url.PathEscape(key)
}
