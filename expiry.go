package tiermem

import (
	"container/heap"
	"sync"
)

// expiries knows the keys that have a TTL, soonest first, so that a
// migration pass removes the expired ones without looking at the others.
// Reads check the TTL themselves, so an expired key is never returned.
type expiries struct {
	mu    sync.Mutex // protects queue and at
	queue expiryQueue
	at    map[string]int64 // key → its expiry in the queue
}

func newExpiries() *expiries { return &expiries{at: map[string]int64{}} }

// set records that key expires at (Unix nanoseconds); 0 forgets it.
func (e *expiries) set(key string, at int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if at == 0 {
		delete(e.at, key)
		return
	}
	e.at[key] = at
	heap.Push(&e.queue, expiry{key: key, at: at})
}

// due returns the keys whose expiry is at or before now, and forgets them.
// Queue entries whose key was stored again with another expiry are skipped.
func (e *expiries) due(now int64) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var keys []string
	for len(e.queue) > 0 && e.queue[0].at <= now {
		x := heap.Pop(&e.queue).(expiry)
		if e.at[x.key] == x.at {
			delete(e.at, x.key)
			keys = append(keys, x.key)
		}
	}
	return keys
}

type expiry struct {
	key string
	at  int64
}

type expiryQueue []expiry

func (q expiryQueue) Len() int           { return len(q) }
func (q expiryQueue) Less(i, j int) bool { return q[i].at < q[j].at }
func (q expiryQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *expiryQueue) Push(x any)        { *q = append(*q, x.(expiry)) }
func (q *expiryQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}
