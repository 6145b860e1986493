package observe

import (
	"math"
	"sync/atomic"
	"time"
)

// Latency accumulates durations: how many, their mean and their maximum.
// Safe for concurrent use; the zero value is ready, and a nil *Latency
// records nothing (an optional one may be passed unset). Record costs two atomic
// adds and, rarely, a compare-and-swap.
type Latency struct {
	count, total, max atomic.Int64
}

// Record adds one duration.
func (l *Latency) Record(d time.Duration) {
	if l == nil {
		return
	}
	l.count.Add(1)
	if t := l.total.Add(int64(d)); t < 0 && d > 0 {
		l.total.Store(math.MaxInt64) // saturated: the mean stays huge, never negative
	}
	for {
		m := l.max.Load()
		if int64(d) <= m || l.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

// Since records the time elapsed since start: defer l.Since(time.Now()).
func (l *Latency) Since(start time.Time) {
	if l != nil {
		l.Record(time.Since(start))
	}
}

// Stats returns the durations recorded so far.
func (l *Latency) Stats() LatencyStats {
	if l == nil {
		return LatencyStats{}
	}
	n := l.count.Load()
	s := LatencyStats{Count: n, Max: time.Duration(l.max.Load())}
	if n > 0 {
		s.Mean = time.Duration(l.total.Load() / n)
	}
	return s
}

// LatencyStats is a snapshot of a Latency.
type LatencyStats struct {
	Count int64         `json:"count"`
	Mean  time.Duration `json:"mean"`
	Max   time.Duration `json:"max"`
}
