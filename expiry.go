package tiermem

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tiermem/tiermem/internal/ttl"
)

// expiries knows the keys that have a TTL, soonest first, so that a
// migration pass removes the expired ones without looking at the others.
// Reads check the TTL themselves, so an expired key is never returned.
type expiries struct {
	mu    sync.Mutex // protects queue and at
	queue ttl.Heap[string]
	at    map[string]int64 // key → its expiry in the queue
	// keys is len(at), for set to forget a key without the lock while no
	// key has a TTL: every Store of a key without one does.
	keys atomic.Int64
}

func newExpiries() *expiries { return &expiries{at: map[string]int64{}} }

// set records that key expires at (Unix nanoseconds); 0 forgets it. Items
// left behind by keys stored again are dropped once they outnumber the
// live ones. Calls for one key are ordered by the caller (the key's
// lock), so a key set before is seen in keys.
func (e *expiries) set(key string, at int64) {
	if at == 0 && e.keys.Load() == 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	defer func() { e.keys.Store(int64(len(e.at))) }()
	if at == 0 {
		delete(e.at, key)
		return
	}
	if e.at[key] == at {
		return // its item is in the queue already: one per key and expiry
	}
	key = strings.Clone(key) // kept: callers may pass strings over memory they reuse
	e.at[key] = at
	e.queue.Push(ttl.Item[string]{At: at, Key: key})
	if e.queue.Len() > 2*len(e.at)+1024 {
		e.queue.Filter(e.liveLocked)
	}
}

// liveLocked reports whether an item is key's current expiry. e.mu is held.
func (e *expiries) liveLocked(it ttl.Item[string]) bool { return e.at[it.Key] == it.At }

// live returns how many keys have an expiry after now.
func (e *expiries) live(now int64) int64 {
	if e.keys.Load() == 0 {
		return 0
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return int64(len(e.at) - e.queue.CountDue(now, e.liveLocked))
}

// due returns the keys whose expiry is at or before now, and forgets them.
// Items of keys stored again with another expiry are skipped.
func (e *expiries) due(now int64) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	defer func() { e.keys.Store(int64(len(e.at))) }()
	var keys []string
	for e.queue.Len() > 0 && e.queue.Peek().At <= now {
		it := e.queue.Peek()
		e.queue.Pop()
		if e.liveLocked(it) {
			delete(e.at, it.Key)
			keys = append(keys, it.Key)
		}
	}
	return keys
}
