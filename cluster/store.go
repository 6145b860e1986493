package cluster

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
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
// deleted after that, in the background (Close waits for it), or left to
// Sweep when the reply that named them was lost.
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
// An array tiermem.Array.Validate refuses is ErrType (wrapping
// tiermem.ErrType too). It is Store otherwise.
func (c *Cluster) StoreArray(ctx context.Context, key string, a tiermem.Array) error {
	if err := a.Validate(); err != nil {
		return fmt.Errorf("%w: storing %q: %w", ErrType, key, err)
	}
	shape := make([]uint64, len(a.Shape))
	for i, d := range a.Shape {
		shape[i] = uint64(d)
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
	deletes := c.deletes.Load() // before the manifest: see nearPut
	m := &manifest{kind: k, aux: aux, gen: newGen(), started: time.Now().UnixNano(), digest: usesDigest(key),
		length: uint64(len(value)), chunkSize: uint32(c.opt.ChunkSize), shape: shape}
	var keys []string
	if len(value) <= inlineMax {
		m.isInline, m.inline = true, value
	} else {
		m.sums = make([]uint64, (len(value)+c.opt.ChunkSize-1)/c.opt.ChunkSize)
		keys = c.chunkKeys(key, m)
		var reported atomic.Int64 // the bytes WithProgress's function was told of
		if err := c.writeChunks(countProgress(ctx, &reported), keys, m, value); err != nil {
			c.unlink(keys)
			if !errors.Is(err, ErrNoSpace) || c.opt.Glacier == nil {
				return fmt.Errorf("storing %q: %w", key, err)
			}
			if serr := c.spill(ctx, key, m, value, reported.Load()); serr != nil {
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
	if m.isInline {
		c.nearDelete(key) // an inline value is read from its manifest: a copy would only take room
	} else {
		c.nearPut(key, m.gen, value, deletes)
	}
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
	name := keyName(key, m.digest)
	keys := make([]string, m.chunks())
	for i := range keys {
		keys[i] = chunkKey(name, m.gen, m.started, base, i)
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
	batches, owners, err := c.plan(ctx, keys, int(m.chunkSize))
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
		err := c.retry(ctx, "writing chunks", func(ctx context.Context) error {
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
// and records in ps.w, if not nil, where each chunk went; a chunk
// redirected to another node (writeOn) counts as a batch sent again.
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
		writes := make([]write, len(idx))
		for j, i := range idx {
			writes[j] = func(p redis.Pipeliner) redis.Cmder { return p.Set(ctx, keys[i], m.chunk(value, i), 0) }
		}
		replies, redirected, waitErr := c.writeOn(ctx, node, ps.wait, writes...)
		for _, r := range replies {
			if r.Err() != nil {
				return r.Err()
			}
		}
		if ps.w != nil {
			if redirected {
				ps.w.retried.Store(true)
			}
			for _, i := range idx {
				ps.w.addr[i] = node.Options().Addr
			}
		}
		if waitErr != nil {
			return waitErr
		}
	}
	return nil
}

// pipeWait adds a WAIT for ReplicationFactor-1 replicas to p, if any, and
// returns it (nil if none).
func (c *Cluster) pipeWait(ctx context.Context, p redis.Pipeliner) *redis.Cmd {
	if c.opt.ReplicationFactor <= 1 {
		return nil
	}
	return p.Do(ctx, "WAIT", c.opt.ReplicationFactor-1, c.opt.WaitTimeout.Milliseconds())
}

// checkWait checks the reply of a WAIT pipeWait added; nil is no WAIT.
func (c *Cluster) checkWait(w *redis.Cmd) error {
	if w == nil {
		return nil
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

// The replies of the scripts below about what the manifest key holds.
const (
	keyOther  = 0  // another manifest (or value) than this writer's
	keyMine   = 1  // this writer's manifest
	keySetNow = 2  // the manifest it expected before its SET: it is set now
	keyAbsent = -1 // nothing
)

// settle makes sure a writer's manifest (ARGV[1]) is in place, without ever
// replacing another writer's: if it is there, it is set again, so that the
// connection's next WAIT covers it; if the key still holds the manifest
// read before the writer's first SET (ARGV[2], when ARGV[3] is '1'), that
// SET did not land and the manifest is set now. Otherwise it says what the
// key holds.
var settle = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1]) return 1 end
if ARGV[3] == '1' and v == ARGV[2] then redis.call('SET', KEYS[1], ARGV[1]) return 2 end
if v then return 0 end
return -1`

// rollback puts the previous manifest back if the new one is still in
// place (compare-and-set), else says what the key holds.
var rollback = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  if ARGV[3] == '1' then redis.call('SET', KEYS[1], ARGV[2]) else redis.call('DEL', KEYS[1]) end
  return 1
end
if v then return 0 end
return -1`)

// How far swapManifest's SET got.
const (
	unsent = iota // no SET can have landed
	unsure        // a SET was sent and its reply lost: it may have landed
	landed        // the SET landed
)

// swapManifest writes m as key's manifest with SET … GET and WAIT, and
// returns the manifest it replaced, if one parses and is known for sure.
// The SET is sent again only while no earlier one can have landed; once one
// has, only the WAIT is retried, after settle checks that the key still
// holds m. If it cannot get the acknowledgements, it puts the previous
// manifest back, only if the key still holds m; when it cannot be sure m is
// gone for good (another writer replaced it and may put it back, or the
// manifest m replaced is not known), the error wraps errMayBeVisible.
func (c *Cluster) swapManifest(ctx context.Context, key string, m *manifest) (*manifest, error) {
	mk := manifestKey(key)
	enc := appendManifest(nil, m)
	// The manifest before, read first: if a SET's reply is lost and the key
	// still holds it, that SET did not land.
	var before string
	err := c.retry(ctx, "reading the manifest", func(ctx context.Context) (err error) {
		before, err = c.rc.Get(ctx, mk).Result()
		if err == redis.Nil {
			before, err = "", nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	hadBefore := "0"
	if before != "" {
		hadBefore = "1"
	}
	var (
		state     = unsent
		prev      string // the manifest the SET replaced, when state is landed
		hasPrev   bool   // there was one
		prevKnown bool   // prev and hasPrev are known for sure
		holds     = keyMine
		lastErr   error
	)
	err = c.retry(ctx, "writing the manifest", func(ctx context.Context) error {
		node, err := c.rc.MasterForKey(ctx, mk)
		if err != nil {
			return err
		}
		replies, _, waitErr := c.writeOn(ctx, node, true, func(p redis.Pipeliner) redis.Cmder {
			if state == unsent {
				return p.SetArgs(ctx, mk, enc, redis.SetArgs{Get: true})
			}
			expect := "0"
			if state == unsure {
				expect = hadBefore
			}
			return p.Eval(ctx, settle, []string{mk}, enc, before, expect)
		})
		if state == unsent {
			switch v, err := replies[0].(*redis.StatusCmd).Result(); {
			case err == nil || err == redis.Nil:
				state, prev, hasPrev, prevKnown = landed, v, err == nil, true
			case mayHaveRun(err):
				state, lastErr = unsure, err
				return err
			default:
				lastErr = err
				return err
			}
		} else {
			r, err := replies[0].(*redis.Cmd).Int64()
			if err != nil {
				lastErr = err
				return err
			}
			switch holds = int(r); holds {
			case keyMine:
				if state == unsure {
					state = landed // prev stays unknown
				}
			case keySetNow:
				state, prev, hasPrev, prevKnown = landed, before, true, true
				holds = keyMine
			default:
				return errReplaced
			}
		}
		lastErr = waitErr
		return lastErr
	})
	if err == nil {
		if !prevKnown || !hasPrev {
			return nil, nil // an unknown previous value's chunks are left to Sweep
		}
		old, perr := parseManifest([]byte(prev))
		if perr != nil {
			return nil, nil // not ours to delete chunks for
		}
		return old, nil
	}
	if holds != keyMine && lastErr != nil {
		err = c.classify("writing the manifest", lastErr) // the error before errReplaced
	}
	switch {
	case state == unsent:
		return nil, err // nothing landed
	case holds == keyAbsent:
		return nil, err // deleted, or never there: it cannot come back
	case state == unsure && c.neverLanded(mk, before):
		return nil, err
	case holds == keyMine && state == landed && prevKnown && c.putBack(mk, enc, prev, hasPrev):
		return nil, err
	}
	return nil, fmt.Errorf("%w (%w: the previous manifest could not be put back)", err, errMayBeVisible)
}

// neverLanded reports whether the key holds nothing, or still the manifest
// read before a SET whose reply was lost: that SET did not land, or was
// deleted since.
func (c *Cluster) neverLanded(mk, before string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), c.opt.RetryTimeout)
	defer cancel()
	var v string
	err := c.retry(ctx, "reading the manifest", func(ctx context.Context) (err error) {
		v, err = c.rc.Get(ctx, mk).Result()
		if err == redis.Nil {
			v, err = "", nil
		}
		return err
	})
	return err == nil && (v == "" || v == before)
}

// errReplaced stops swapManifest's retries: the key no longer holds the
// writer's manifest.
var errReplaced = errors.New("the manifest was replaced meanwhile")

// mayHaveRun reports whether a command that failed with err may have run
// on its node all the same: its reply was lost, not refused.
func mayHaveRun(err error) bool {
	var (
		re redis.Error
		oe *net.OpError
	)
	switch {
	case errors.As(err, &re): // the node's error reply
		return false
	case errors.As(err, &oe) && oe.Op == "dial", errors.Is(err, redis.ErrClosed),
		strings.Contains(err.Error(), "pool timeout"): // never sent
		return false
	}
	return true
}

// putBack runs rollback, and reports whether the new manifest is surely
// gone: the previous one is back, or the key was deleted since.
func (c *Cluster) putBack(mk string, enc []byte, prev string, hasPrev bool) bool {
	ctx, cancel := context.WithTimeout(context.Background(), c.opt.RetryTimeout)
	defer cancel()
	flag := "0"
	if hasPrev {
		flag = "1"
	}
	var r int64
	err := c.retry(ctx, "putting the manifest back", func(ctx context.Context) (err error) {
		r, err = rollback.Run(ctx, c.rc, []string{mk}, enc, prev, flag).Int64()
		return err
	})
	return err == nil && (r == keyMine || r == keyAbsent)
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
