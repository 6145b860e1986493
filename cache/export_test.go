package cache

// TableWeight returns the sum of the weights of the entries in the hash table
// and their number, walking every shard under its lock.
func (c *Cache[K, V]) TableWeight() (int64, int) {
	var w int64
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.eachLocked(func(e *entry[K, V]) { w += e.weight; n++ })
		s.mu.Unlock()
	}
	return w, n
}

// Sweep removes expired entries now, as the background sweeper does.
func (c *Cache[K, V]) Sweep() { c.notify(c.sweepExpired()) }

// Drain hands the buffered hits to the policy now.
func (c *Cache[K, V]) Drain() {
	c.mu.Lock()
	c.drainLocked()
	c.mu.Unlock()
}
