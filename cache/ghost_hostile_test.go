package cache

import "testing"

// S3-FIFO's ghost remembers at most about as many hashes as the cache holds
// keys, and its queue stays within a small multiple of them. Its queue once
// dropped entries only while the map was over its limit: when ghosted keys
// come back (take deletes them from the map), the map stays under the limit
// and the queue grew by one entry per eviction from the small queue, forever,
// so that a loop slightly larger than the cache leaked 16 bytes per miss.
func TestHostileS3FIFOGhostQueueBounded(t *testing.T) {
	const capacity = 1000
	c, err := New(&Options[uint64, uint64]{MaxWeight: capacity, Policy: S3FIFO, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 200_000 {
		k := uint64(i % 1100)
		if _, ok := c.Get(k); !ok {
			if err := c.Set(k, k); err != nil {
				t.Fatal(err)
			}
		}
	}
	c.mu.Lock()
	g := &c.policy.(*s3fifo[uint64]).ghost
	remembered, queued := len(g.set), len(g.queue)-g.head
	c.mu.Unlock()
	if queued > 4*capacity+128 {
		t.Fatalf("after 200k requests over 1100 keys (budget %d): the ghost queue holds %d entries for %d remembered hashes; it grows without bound",
			capacity, queued, remembered)
	}
}

// The same bound through the keyed Policy that the tiers use.
func TestHostileS3FIFOPolicyGhostQueueBounded(t *testing.T) {
	const capacity = 1000
	p := NewS3FIFO[uint64](capacity)
	resident := map[uint64]bool{}
	for i := range 400_000 {
		k := uint64(i % 1050)
		if resident[k] {
			p.Access(k)
			continue
		}
		p.Add(k, 1)
		resident[k] = true
		for p.Weight() > capacity {
			v, _ := p.Victim()
			p.Remove(v)
			delete(resident, v)
		}
	}
	g := &p.(*keyed[uint64]).core.(*s3fifo[uint64]).ghost
	if queued := len(g.queue) - g.head; queued > 4*capacity+128 {
		t.Fatalf("ghost queue holds %d entries for %d remembered hashes (capacity %d)", queued, len(g.set), capacity)
	}
}
