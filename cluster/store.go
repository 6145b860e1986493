package cluster

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zeebo/xxh3"

	"github.com/tiermem/tiermem"
)

// Store stores value under key. The value is split into chunks of ChunkSize
// spread over the cluster's masters (a value up to 64 KiB stays inside its
// manifest), written in parallel, then the manifest, which names a new
// generation, replaces the previous one; the previous value's chunks are
// deleted after that, in the background (Close waits for it).
//
// Store returns nil only when every chunk and the manifest are on their
// master and, with ReplicationFactor > 1, acknowledged by
// ReplicationFactor-1 of its replicas. On an error the previous value stays
// readable (an ErrNotReplicated error whose text says "may be visible" is the
// one exception: the cluster could not be asked to put the previous manifest
// back). Store does not keep value past the call. Concurrent Stores of one
// key are last-writer-wins.
func (c *Cluster) Store(ctx context.Context, key string, value []byte) error {
	return c.store(ctx, key, value, kindBytes, 0, nil)
}

// StoreArray stores an array under key, with its element type and shape.
// It is Store otherwise.
func (c *Cluster) StoreArray(ctx context.Context, key string, a tiermem.Array) error {
	size := a.DType.Size()
	if size == 0 {
		return fmt.Errorf("%w: storing %q: unknown %v", ErrType, key, a.DType)
	}
	if len(a.Shape) > maxNDim {
		return fmt.Errorf("%w: storing %q: %d dimensions, at most %d", ErrType, key, len(a.Shape), maxNDim)
	}
	shape := make([]uint64, len(a.Shape))
	n := uint64(1)
	for i, d := range a.Shape {
		if d < 0 {
			return fmt.Errorf("%w: storing %q: shape %v", ErrType, key, a.Shape)
		}
		shape[i], n = uint64(d), n*uint64(d)
	}
	if n*uint64(size) != uint64(len(a.Data)) {
		return fmt.Errorf("%w: storing %q: shape %v of %v needs %d bytes, has %d", ErrType, key, a.Shape, a.DType, n*uint64(size), len(a.Data))
	}
	return c.store(ctx, key, a.Data, kindArray, uint8(a.DType), shape)
}

func (c *Cluster) store(ctx context.Context, key string, value []byte, k kind, aux uint8, shape []uint64) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := c.enter(); err != nil {
		return err
	}
	defer c.mu.RUnlock()
	m := &manifest{kind: k, aux: aux, gen: newGen(), started: time.Now().UnixNano(),
		length: uint64(len(value)), chunkSize: uint32(c.opt.ChunkSize), shape: shape}
	var keys []string
	if len(value) <= inlineMax {
		m.isInline, m.inline = true, value
	} else {
		m.sums = make([]uint64, (len(value)+c.opt.ChunkSize-1)/c.opt.ChunkSize)
		keys = c.chunkKeys(key, m)
		if err := c.writeChunks(ctx, keys, m, value); err != nil {
			c.unlink(keys)
			if !errors.Is(err, ErrNoSpace) || c.opt.Glacier == nil {
				return fmt.Errorf("storing %q: %w", key, err)
			}
			if serr := c.spill(ctx, key, m, value); serr != nil {
				return fmt.Errorf("storing %q: %w (%w)", key, err, serr)
			}
		}
	}
	old, err := c.swapManifest(ctx, key, m)
	if err != nil {
		if !errors.Is(err, errMayBeVisible) {
			c.dropValue(key, m)
		}
		return fmt.Errorf("storing %q: %w", key, err)
	}
	if old != nil && old.gen != m.gen {
		// In the background: freeing a replaced value costs Redis about as
		// much as writing it (measured), and no reader needs it any more.
		c.cleanup.Go(func() { c.dropValue(key, old) })
	}
	c.nearPut(key, m.gen, value)
	return nil
}

// newGen returns a random generation.
func newGen() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

// chunkKeys returns the keys of m's chunks.
func (c *Cluster) chunkKeys(key string, m *manifest) []string {
	base := uint32((xxh3.HashString(key) ^ m.gen) % slots)
	keys := make([]string, m.chunks())
	for i := range keys {
		keys[i] = chunkKey(key, m.gen, m.started, base, i)
	}
	return keys
}

// chunk returns chunk i of value.
func (m *manifest) chunk(value []byte, i int) []byte {
	start := i * int(m.chunkSize)
	return value[start : start+m.chunkLen(i)]
}

// batchBytes returns the bytes of the chunks of batch.
func (m *manifest) batchBytes(batch []int) int64 {
	n := int64(0)
	for _, i := range batch {
		n += int64(m.chunkLen(i))
	}
	return n
}

// writeChunks writes every chunk and fills m.sums. With ReplicationFactor
// n > 1 it makes sure every chunk is acknowledged by n-1 replicas, with one
// WAIT per master rather than one per batch: the last batch of each master
// is sent with a WAIT once all its other batches have been written, on any
// connection; since a master's replication stream is ordered, replicas that
// acknowledge that batch hold the earlier ones too. That holds only if every
// chunk is still on the node it was written to: if a batch had to be sent
// again, or a chunk's master changed meanwhile (a failover), every chunk is
// written again with a WAIT per batch.
func (c *Cluster) writeChunks(ctx context.Context, keys []string, m *manifest, value []byte) error {
	batches, owners, err := c.plan(ctx, keys)
	if err != nil {
		return err
	}
	if c.opt.ReplicationFactor <= 1 {
		return c.writeBatches(ctx, keys, m, value, batches, countDistinct(owners), pass{first: true})
	}
	last := make(map[string]int) // each master's last batch
	for b, o := range owners {
		last[o] = b
	}
	var early, final [][]int
	for b, batch := range batches {
		if last[owners[b]] == b {
			final = append(final, batch)
		} else {
			early = append(early, batch)
		}
	}
	w := &written{addr: make([]string, len(keys))}
	err = c.writeBatches(ctx, keys, m, value, early, len(last), pass{first: true, w: w})
	if err == nil {
		err = c.writeBatches(ctx, keys, m, value, final, len(last), pass{first: true, wait: true, w: w})
	}
	if err != nil || !w.retried.Load() && c.stillOn(ctx, keys, w.addr) {
		return err
	}
	return c.writeBatches(ctx, keys, m, value, batches, len(last), pass{wait: true}) // the safe way
}

// pass says how writeBatches writes.
type pass struct {
	first bool     // checksum the chunks and report progress
	wait  bool     // end every pipeline with a WAIT (if ReplicationFactor > 1)
	w     *written // if not nil, record where each chunk went
}

// written records where the first pass of writeChunks put each chunk.
type written struct {
	addr    []string    // chunk i's master when it was written; each index set by one worker
	retried atomic.Bool // a batch was sent more than once
}

// writeBatches writes batches on Streams workers per master.
func (c *Cluster) writeBatches(ctx context.Context, keys []string, m *manifest, value []byte, batches [][]int, masters int, ps pass) error {
	return c.run(ctx, batches, masters, func(ctx context.Context, batch []int) error {
		if ps.first {
			for _, i := range batch {
				m.sums[i] = xxh3.Hash(m.chunk(value, i))
			}
		}
		tries := 0
		err := c.retry(ctx, "writing chunks", func() error {
			if tries++; tries > 1 && ps.w != nil {
				ps.w.retried.Store(true)
			}
			return c.writeBatch(ctx, keys, m, value, batch, ps)
		})
		if err == nil && ps.first {
			progress(ctx, m.batchBytes(batch))
		}
		return err
	})
}

// stillOn reports whether every chunk's master is the node it was written to.
func (c *Cluster) stillOn(ctx context.Context, keys []string, addr []string) bool {
	for i, k := range keys {
		node, err := c.rc.MasterForKey(ctx, k)
		if err != nil || node.Options().Addr != addr[i] {
			return false
		}
	}
	return true
}

// countDistinct returns the number of distinct strings in s.
func countDistinct(s []string) int {
	seen := make(map[string]bool)
	for _, x := range s {
		seen[x] = true
	}
	return len(seen)
}

// writeBatch writes the chunks of batch in one pipeline per master (one,
// unless the slots moved since the plan), each ended by a WAIT if ps.wait,
// and records in ps.w, if not nil, where each chunk went.
func (c *Cluster) writeBatch(ctx context.Context, keys []string, m *manifest, value []byte, batch []int, ps pass) error {
	groups := make(map[*redis.Client][]int)
	for _, i := range batch {
		node, err := c.rc.MasterForKey(ctx, keys[i])
		if err != nil {
			return err
		}
		groups[node] = append(groups[node], i)
	}
	for node, idx := range groups {
		cmds, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, i := range idx {
				p.Set(ctx, keys[i], m.chunk(value, i), 0)
			}
			if ps.wait {
				c.pipeWait(ctx, p)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if ps.w != nil {
			for _, i := range idx {
				ps.w.addr[i] = node.Options().Addr
			}
		}
		if ps.wait {
			if err := c.checkWait(cmds); err != nil {
				return err
			}
		}
	}
	return nil
}

// pipeWait adds a WAIT for ReplicationFactor-1 replicas to p, if any.
func (c *Cluster) pipeWait(ctx context.Context, p redis.Pipeliner) {
	if c.opt.ReplicationFactor > 1 {
		p.Do(ctx, "WAIT", c.opt.ReplicationFactor-1, c.opt.WaitTimeout.Milliseconds())
	}
}

// checkWait checks the reply of the WAIT pipeWait added last to cmds.
func (c *Cluster) checkWait(cmds []redis.Cmder) error {
	if c.opt.ReplicationFactor <= 1 {
		return nil
	}
	w, ok := cmds[len(cmds)-1].(*redis.Cmd)
	if !ok {
		return fmt.Errorf("cluster: pipeline without its WAIT")
	}
	got, err := w.Int64()
	if err != nil {
		return err
	}
	want := int64(c.opt.ReplicationFactor - 1)
	if got < want {
		return &errFewAcks{got: got, want: want}
	}
	return nil
}

// errMayBeVisible marks a Store whose new manifest may be in place without
// the acknowledgements it asked for: its chunks must stay.
var errMayBeVisible = errors.New("the new value may be visible")

// rollback puts the previous manifest back if the new one is still in place.
var rollback = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  if ARGV[3] == '1' then redis.call('SET', KEYS[1], ARGV[2]) else redis.call('DEL', KEYS[1]) end
  return 1
end
return 0`)

// swapManifest writes m as key's manifest with SET … GET and WAIT, and
// returns the manifest it replaced, if one parses. If it cannot get the
// acknowledgements, it puts the previous manifest back.
func (c *Cluster) swapManifest(ctx context.Context, key string, m *manifest) (*manifest, error) {
	mk := manifestKey(key)
	enc := appendManifest(nil, m)
	// The manifest before, read first in case a SET lands but its reply is
	// lost; the SET's own reply replaces it when there is one.
	prev, prevErr := c.rc.Get(ctx, mk).Result()
	hasPrev, replied := prevErr == nil, false
	if prevErr != nil && prevErr != redis.Nil {
		return nil, c.classify("reading the manifest", prevErr)
	}
	err := c.retry(ctx, "writing the manifest", func() error {
		node, err := c.rc.MasterForKey(ctx, mk)
		if err != nil {
			return err
		}
		cmds, _ := node.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.SetArgs(ctx, mk, enc, redis.SetArgs{Get: true})
			c.pipeWait(ctx, p)
			return nil
		})
		set := cmds[0].(*redis.StatusCmd)
		switch v, err := set.Result(); {
		case err == redis.Nil: // nothing was there; after a reply, a retry's own
			if !replied {
				hasPrev = false
			}
		case err != nil:
			return err
		case v != string(enc): // not a retry that finds its own SET
			prev, hasPrev = v, true
		}
		replied = true
		for _, cmd := range cmds[1:] {
			if cmd.Err() != nil {
				return cmd.Err()
			}
		}
		return c.checkWait(cmds)
	})
	if err == nil {
		if !hasPrev {
			return nil, nil
		}
		old, perr := parseManifest([]byte(prev))
		if perr != nil {
			return nil, nil // not ours to delete chunks for
		}
		return old, nil
	}
	if isOOM(err) || !c.putBack(mk, enc, prev, hasPrev) {
		if isOOM(err) {
			return nil, err
		}
		return nil, fmt.Errorf("%w (%w: the previous manifest could not be put back)", err, errMayBeVisible)
	}
	return nil, err
}

// putBack runs rollback, and reports whether the new manifest is surely gone.
func (c *Cluster) putBack(mk string, enc []byte, prev string, hasPrev bool) bool {
	ctx, cancel := context.WithTimeout(context.Background(), c.opt.RetryTimeout)
	defer cancel()
	flag := "0"
	if hasPrev {
		flag = "1"
	}
	err := c.retry(ctx, "putting the manifest back", func() error {
		return rollback.Run(ctx, c.rc, []string{mk}, enc, prev, flag).Err()
	})
	return err == nil
}

// unlink deletes keys, best effort: what it misses, Sweep finds.
func (c *Cluster) unlink(keys []string) {
	if len(keys) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opt.RetryTimeout)
	defer cancel()
	_, _ = c.rc.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Unlink(ctx, k)
		}
		return nil
	})
}
