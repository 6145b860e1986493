package observe

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tiermem/tiermem/memory"
)

// offHeapLeak is one report of memory's leak reporter, with when it came.
type offHeapLeak struct {
	leak memory.Leak
	at   time.Time
}

// leakHub owns memory's leak reporter while Optimizers run: it installs one
// reporter that hands each leak to every running Optimizer, and restores the
// default (a log line) when the last one stops.
var leakHub struct {
	mu   sync.Mutex // protects subs
	subs map[*Optimizer]struct{}
}

func subscribeLeaks(o *Optimizer) {
	leakHub.mu.Lock()
	defer leakHub.mu.Unlock()
	if leakHub.subs == nil {
		leakHub.subs = make(map[*Optimizer]struct{})
	}
	leakHub.subs[o] = struct{}{}
	if len(leakHub.subs) == 1 {
		memory.SetLeakReporter(dispatchLeak)
	}
}

func unsubscribeLeaks(o *Optimizer) {
	leakHub.mu.Lock()
	defer leakHub.mu.Unlock()
	delete(leakHub.subs, o)
	if len(leakHub.subs) == 0 {
		memory.SetLeakReporter(nil)
	}
}

func dispatchLeak(l memory.Leak) {
	leakHub.mu.Lock()
	defer leakHub.mu.Unlock()
	now := time.Now()
	for o := range leakHub.subs {
		o.recordLeak(offHeapLeak{leak: l, at: now})
	}
}

// offHeapSuspects groups leak reports by site.
func offHeapSuspects(leaks []offHeapLeak, now time.Time) []Suspect {
	bySite := map[string]int{}
	var out []Suspect
	for _, l := range leaks {
		i, ok := bySite[l.leak.Where]
		if !ok {
			i = len(out)
			bySite[l.leak.Where] = i
			out = append(out, Suspect{Kind: OffHeapLeak, Site: siteOfWhere(l.leak.Where), Age: now.Sub(l.at)})
		}
		out[i].Bytes += l.leak.Size
		out[i].Count++
	}
	for i := range out {
		if secs := out[i].Age.Seconds(); secs > 0 {
			out[i].Growth.Slope = float64(out[i].Bytes) / secs
		}
	}
	return byGrowth(out)
}

// siteOfWhere turns memory's "file:line" into a Site.
func siteOfWhere(where string) Site {
	i := strings.LastIndexByte(where, ':')
	if i < 0 {
		return Site{File: where}
	}
	line, err := strconv.Atoi(where[i+1:])
	if err != nil {
		return Site{File: where}
	}
	return Site{File: where[:i], Line: line}
}
