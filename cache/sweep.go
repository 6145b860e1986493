package cache

import (
	"bytes"
	"runtime"
	"strconv"
	"time"

	"github.com/tiermem/tiermem/internal/ttl"
)

// maintain is the maintenance goroutine: it drains the hit buffer when asked
// and removes expired entries every interval, until Close.
func (c *Cache[K, V]) maintain(interval time.Duration) {
	defer close(c.done)
	c.maintainer.Store(goid())
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-c.drainReq:
			c.drainPending.Store(false)
			c.mu.Lock()
			c.drainLocked()
			c.mu.Unlock()
		case <-t.C:
			c.notify(c.sweepExpired())
		}
	}
}

// sweepExpired removes every entry whose TTL has run out and returns them.
// Tests call it directly to sweep at a moment of their choosing.
func (c *Cache[K, V]) sweepExpired() []removal[K, V] {
	if c.epoch.Load() == nil {
		return nil // no TTL yet: the cache clock has not started (see now)
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []removal[K, V]
	for c.expiries.Len() > 0 && c.expiries.Peek().At <= now {
		it := c.expiries.Peek()
		c.expiries.Pop()
		if e := c.liveLocked(it); e != nil && c.unpublishLocked(e) {
			c.policy.remove(&e.node)
			c.weight -= e.weight
			c.removals[Expired]++
			out = append(out, c.gone(e, Expired))
		}
	}
	c.trimExpiriesLocked()
	c.published.Store(c.weight)
	return out
}

// liveLocked returns the entry an expiry item stands for, or nil if the key is gone
// or its entry has another expiry time since. c.mu must be held.
func (c *Cache[K, V]) liveLocked(it ttl.Item[K]) *entry[K, V] {
	h := c.hash(it.Key)
	if e := c.shard(h).find(h, it.Key); e != nil && e.expire == it.At {
		return e
	}
	return nil
}

// goid returns the calling goroutine's id, read from its stack trace's
// first line ("goroutine 7 [running]:"): what lets Close tell the
// maintenance goroutine, running an OnEvict that calls Close, from others.
func goid() uint64 {
	var buf [64]byte
	line := buf[:runtime.Stack(buf[:], false)]
	line, _ = bytes.CutPrefix(line, []byte("goroutine "))
	if i := bytes.IndexByte(line, ' '); i > 0 {
		line = line[:i]
	}
	id, _ := strconv.ParseUint(string(line), 10, 64)
	return id
}

// trimExpiriesLocked drops the expiry items of entries gone or given
// another expiry once they outnumber the live entries twice over (and 1024):
// each trim is paid for by the pushes since the last. c.mu must be held.
func (c *Cache[K, V]) trimExpiriesLocked() {
	if c.expiries.Len() > 2*c.policy.size()+1024 {
		c.expiries.Filter(func(it ttl.Item[K]) bool { return c.liveLocked(it) != nil })
	}
}
