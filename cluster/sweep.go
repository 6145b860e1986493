package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// SweepStats says what a Sweep found.
type SweepStats struct {
	Chunks  int // chunk keys seen, on every master
	Objects int // objects seen in the glacier bucket, if any
	Orphans int // chunks and objects removed: no manifest names them
}

// DefaultSweepGrace is the grace Sweep gives chunks when it is passed 0: ten
// minutes, longer than any Store this package makes on a healthy cluster.
const DefaultSweepGrace = 10 * time.Minute

// Sweep removes orphan chunks: chunks of generations no manifest names,
// begun more than grace ago (0 means DefaultSweepGrace), and the objects of
// the glacier bucket no manifest names, likewise. Orphans come from
// writers that crashed or lost their connection mid-Store, and from deletes
// of replaced values that failed. A chunk younger than grace is kept, since
// its Store may still be writing: grace must exceed the longest Store (plus
// the skew between the writers' clocks and this one's), and a negative
// grace is ErrOptions. Every chunk and object of a key whose manifest's
// Store began less than grace ago is kept: that Store may still fail and
// put back the manifest it replaced. Sweep
// scans every master (SCAN, in steps) and may run while others use the
// cluster; it is safe for concurrent use.
func (c *Cluster) Sweep(ctx context.Context, grace time.Duration) (SweepStats, error) {
	if grace < 0 {
		return SweepStats{}, fmt.Errorf("%w: Sweep grace %v: a negative grace would remove the chunks of Stores in progress", ErrOptions, grace)
	}
	if grace == 0 {
		grace = DefaultSweepGrace
	}
	if err := c.enter(); err != nil {
		return SweepStats{}, err
	}
	defer c.mu.RUnlock()
	var (
		mu sync.Mutex // protects st
		st SweepStats
		w  = &sweeper{c: c, limit: time.Now().Add(-grace).Unix()}
	)
	err := c.rc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		var cursor uint64
		for {
			keys, next, err := node.Scan(ctx, cursor, chunkPrefix+"*", 1000).Result()
			if err != nil {
				return err
			}
			n, err := w.sweepKeys(ctx, keys)
			mu.Lock()
			st.Chunks += len(keys)
			st.Orphans += n
			mu.Unlock()
			if err != nil {
				return err
			}
			if cursor = next; cursor == 0 {
				return nil
			}
		}
	})
	if err != nil {
		return st, fmt.Errorf("cluster: sweeping: %w", err)
	}
	if c.opt.Glacier != nil {
		seen, orphans, err := w.sweepGlacier(ctx)
		st.Objects, st.Orphans = seen, st.Orphans+orphans
		if err != nil {
			return st, fmt.Errorf("cluster: sweeping %s: %w", c.opt.Glacier, err)
		}
	}
	return st, nil
}

// recent reports whether m's Store began at or after the unix second limit:
// it may still be running, and fail and put back the manifest m replaced,
// whose chunks m does not name. Sweep keeps every chunk and object of such a
// key.
func (m *manifest) recent(limit int64) bool { return m.started >= limit*1e9 }

// sweeper is one Sweep's state. It is safe for concurrent use: a Sweep
// scans the masters at once.
type sweeper struct {
	c     *Cluster
	limit int64 // the unix second before which a chunk or object may be an orphan

	once    sync.Once
	digests map[string]string // digest name → key, for every long key that had a manifest (keyOf)
	err     error
}

// keyOf returns the key id names. A digest name is looked up among the long
// keys that had a manifest when the Sweep first met one (a SCAN of every
// master's manifests); known is false for one of no such key, whose chunks
// began before limit: a Store that wrote its manifest after that scan ran
// for longer than the grace.
func (w *sweeper) keyOf(ctx context.Context, id chunkID) (key string, known bool, err error) {
	if k, ok := id.key(); ok {
		return k, true, nil
	}
	w.once.Do(func() { w.digests, w.err = w.c.digestKeys(ctx) })
	if w.err != nil {
		return "", false, w.err
	}
	key, known = w.digests[id.name]
	return key, known, nil
}

// digestKeys maps the digest name of every key with a manifest that names
// its chunks by digest to the key.
func (c *Cluster) digestKeys(ctx context.Context) (map[string]string, error) {
	var mu sync.Mutex
	keys := make(map[string]string)
	err := c.rc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		iter := node.Scan(ctx, 0, manifestPrefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			if key := strings.TrimPrefix(iter.Val(), manifestPrefix); usesDigest(key) {
				mu.Lock()
				keys[keyName(key, true)] = key
				mu.Unlock()
			}
		}
		return iter.Err()
	})
	return keys, err
}

// manifestOf returns the manifest of the key id names, nil when there is
// none; gens caches them by name. skip says to keep id's chunk or object
// whatever it is: its key's manifest is damaged (kept for inspection).
func (w *sweeper) manifestOf(ctx context.Context, id chunkID, gens map[string]*manifest) (m *manifest, skip bool, err error) {
	if m, seen := gens[id.name]; seen {
		return m, false, nil
	}
	key, known, err := w.keyOf(ctx, id)
	if err != nil || !known {
		return nil, false, err
	}
	m, err = w.c.manifestOrNil(ctx, key)
	if errors.Is(err, ErrCorrupt) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	gens[id.name] = m
	return m, false, nil
}

// sweepKeys removes the chunk keys of keys begun before limit that their
// key's manifest does not name, and returns their count.
func (w *sweeper) sweepKeys(ctx context.Context, keys []string) (int, error) {
	var orphans []string
	gens := make(map[string]*manifest) // by key name; nil when absent
	for _, k := range keys {
		id, ok := parseChunkKey(k)
		if !ok || id.started >= w.limit {
			continue
		}
		m, skip, err := w.manifestOf(ctx, id, gens)
		if err != nil {
			return len(orphans), err
		}
		if skip || m != nil && m.recent(w.limit) {
			continue
		}
		if m == nil || m.isInline || m.spilled || m.gen != id.gen || id.index >= m.chunks() {
			orphans = append(orphans, k)
		}
	}
	for _, k := range orphans {
		if err := w.c.rc.Unlink(ctx, k).Err(); err != nil {
			return 0, err
		}
	}
	return len(orphans), nil
}
