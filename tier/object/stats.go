package object

import "sync/atomic"

// Stats is a snapshot of a Store's traffic with its bucket and of what it
// holds, for metrics and `tiermem glacier ls`. Counters only grow.
type Stats struct {
	Keys      int64 // keys held (Len)
	Used      int64 // bytes charged (Used)
	Packs     int   // packs, the open and uploading ones included
	Pending   int   // sealed packs not yet durable (uploading, or failed and waiting)
	Requests  int64 // requests made to the bucket, retries included
	Retries   int64 // requests repeated after a transient error
	Failures  int64 // calls that failed after their retries, or at once (missing object or bucket)
	BytesUp   int64 // bytes PUT
	BytesDown int64 // bytes received by GETs
}

// counters are the traffic counters of a retrying bucket.
type counters struct {
	requests, retries, failures atomic.Int64
	bytesUp, bytesDown          atomic.Int64
}

// Stats returns a snapshot of the store's counters. It may be called
// after Close.
func (s *Store) Stats() Stats {
	c := &s.bucket.counters
	st := Stats{Keys: s.Len(), Used: s.Used(), Requests: c.requests.Load(), Retries: c.retries.Load(),
		Failures: c.failures.Load(), BytesUp: c.bytesUp.Load(), BytesDown: c.bytesDown.Load()}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st.Packs = len(s.packs)
	for _, p := range s.packs {
		if p.sealed && !p.durable {
			st.Pending++
		}
	}
	return st
}
