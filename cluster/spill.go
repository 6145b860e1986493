package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/zeebo/xxh3"

	"github.com/tiermem/tiermem/tier/object"
)

// Spill to glacier. When the cluster refuses a value's chunks for lack of
// memory (OOM under maxmemory) and Options.Glacier is set, the whole value
// is written as one object to that bucket, shared by every client, and its
// manifest — still in the cluster — says so (flagSpilled): the same chunk
// size and checksums, the chunks being ranges of the object. The object's
// name carries the key's name and the generation, so that replaced and
// orphaned objects are found and deleted like chunks:
//
//	PREFIX NAME / GEN - T       NAME: keyName; GEN, T: hex, as in chunk keys

// objectName returns the name of m's object in the glacier bucket.
func (c *Cluster) objectName(key string, m *manifest) string {
	return c.opt.GlacierPrefix + keyName(key, m.digest) + "/" +
		strconv.FormatUint(m.gen, 16) + "-" + strconv.FormatInt(m.started/1e9, 16)
}

// parseObjectName parses a name made by objectName.
func (c *Cluster) parseObjectName(name string) (chunkID, bool) {
	rest, ok := strings.CutPrefix(name, c.opt.GlacierPrefix)
	if !ok {
		return chunkID{}, false
	}
	name, rest, ok1 := strings.Cut(rest, "/")
	g, t, ok2 := strings.Cut(rest, "-")
	gen, err2 := strconv.ParseUint(g, 16, 64)
	started, err3 := strconv.ParseInt(t, 16, 64)
	if !ok1 || !ok2 || !parseName(name) || err2 != nil || err3 != nil {
		return chunkID{}, false
	}
	return chunkID{name: name, gen: gen, started: started}, true
}

// spill writes value to the glacier bucket as m's object and marks m
// spilled. It reports the bytes of value progress was not yet told of: all
// but reported.
func (c *Cluster) spill(ctx context.Context, key string, m *manifest, value []byte, reported int64) error {
	for i := range m.sums {
		m.sums[i] = xxh3.Hash(m.chunk(value, i))
	}
	if err := c.opt.Glacier.Put(ctx, c.objectName(key, m), value); err != nil {
		return fmt.Errorf("cluster: spilling to %s: %w", c.opt.Glacier, err)
	}
	m.spilled = true
	if rest := int64(len(value)) - reported; rest > 0 {
		progress(ctx, rest)
	}
	return nil
}

// dropObject deletes m's object, best effort: what it misses, Sweep finds.
func (c *Cluster) dropObject(key string, m *manifest) {
	ctx, cancel := context.WithTimeout(context.Background(), c.opt.RetryTimeout)
	defer cancel()
	_ = c.opt.Glacier.Delete(ctx, c.objectName(key, m))
}

// dropValue deletes what m's value occupies: its chunks or its object.
func (c *Cluster) dropValue(key string, m *manifest) {
	switch {
	case m.isInline:
	case m.spilled:
		if c.opt.Glacier != nil {
			c.dropObject(key, m)
		}
	default:
		c.unlink(c.chunkKeys(key, m))
	}
}

// readSpilled reads m's chunks as ranges of its object, Streams at a time,
// checks each and copies it into its place in buf.
func (c *Cluster) readSpilled(ctx context.Context, key string, m *manifest, buf *buffer) error {
	if c.opt.Glacier == nil {
		return fmt.Errorf("%w: %q was spilled to glacier, and Options.Glacier is not set", ErrOptions, key)
	}
	name := c.objectName(key, m)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
		next     = make(chan int)
	)
	for range min(m.chunks(), 2*c.opt.Streams) {
		wg.Go(func() {
			for i := range next {
				if err := c.readObjectChunk(ctx, name, m, buf, i); err != nil {
					once.Do(func() { firstErr = err; cancel() })
				}
			}
		})
	}
feed:
	for i := range m.chunks() {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

func (c *Cluster) readObjectChunk(ctx context.Context, name string, m *manifest, buf *buffer, i int) error {
	off := int64(i) * int64(m.chunkSize)
	b, err := c.opt.Glacier.Get(ctx, name, off, int64(m.chunkLen(i)))
	if errors.Is(err, object.ErrNotExist) {
		return fmt.Errorf("%w: object %s", errGone, name)
	}
	if errors.Is(err, object.ErrShortObject) { // a chunk cut short, as one in Redis would be
		return fmt.Errorf("%w: chunk %d of object %s: %v", ErrCorrupt, i, name, err)
	}
	if err != nil {
		return fmt.Errorf("cluster: reading %s from %s: %w", name, c.opt.Glacier, err)
	}
	if err := m.check(i, string(b)); err != nil {
		return err
	}
	copy(m.chunk(buf.bytes(), i), b)
	progress(ctx, int64(len(b)))
	return nil
}

// sweepGlacier deletes the objects of the glacier bucket begun before limit
// that no manifest names, and returns how many it saw and deleted. It keeps
// the objects of a key whose manifest is damaged.
func (w *sweeper) sweepGlacier(ctx context.Context) (seen, orphans int, err error) {
	c := w.c
	var names []string
	gens := make(map[string]*manifest)
	err = c.opt.Glacier.List(ctx, c.opt.GlacierPrefix, func(name string, _ int64) error {
		seen++
		if id, ok := c.parseObjectName(name); ok && id.started < w.limit {
			m, skip, err := w.manifestOf(ctx, id, gens)
			if err != nil {
				return err
			}
			if skip || m != nil && m.recent(w.limit) {
				return nil
			}
			if m == nil || !m.spilled || m.gen != id.gen {
				names = append(names, name)
			}
		}
		return nil
	})
	if err != nil {
		return seen, 0, err
	}
	for _, n := range names {
		if err := c.opt.Glacier.Delete(ctx, n); err != nil {
			return seen, orphans, err
		}
		orphans++
	}
	return seen, orphans, nil
}
