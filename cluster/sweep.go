package cluster

import (
	"context"
	"errors"
	"fmt"
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
// its Store may still be writing: grace must exceed the longest Store. Sweep
// scans every master (SCAN, in steps) and may run while others use the
// cluster; it is safe for concurrent use.
func (c *Cluster) Sweep(ctx context.Context, grace time.Duration) (SweepStats, error) {
	if grace == 0 {
		grace = DefaultSweepGrace
	}
	if err := c.enter(); err != nil {
		return SweepStats{}, err
	}
	defer c.mu.RUnlock()
	var (
		mu    sync.Mutex // protects st
		st    SweepStats
		limit = time.Now().Add(-grace).Unix()
	)
	err := c.rc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		var cursor uint64
		for {
			keys, next, err := node.Scan(ctx, cursor, chunkPrefix+"*", 1000).Result()
			if err != nil {
				return err
			}
			n, err := c.sweepKeys(ctx, keys, limit)
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
		seen, orphans, err := c.sweepGlacier(ctx, limit)
		st.Objects, st.Orphans = seen, st.Orphans+orphans
		if err != nil {
			return st, fmt.Errorf("cluster: sweeping %s: %w", c.opt.Glacier, err)
		}
	}
	return st, nil
}

// sweepKeys removes the chunk keys of keys begun before the unix second
// limit that their key's manifest does not name, and returns their count.
func (c *Cluster) sweepKeys(ctx context.Context, keys []string, limit int64) (int, error) {
	var orphans []string
	gens := make(map[string]*manifest) // the manifest of each key, nil when absent
	for _, k := range keys {
		id, ok := parseChunkKey(k)
		if !ok || id.started >= limit {
			continue
		}
		m, seen := gens[id.key]
		if !seen {
			var err error
			if m, err = c.manifestOrNil(ctx, id.key); errors.Is(err, ErrCorrupt) {
				continue // damaged: keep what it may name, for inspection
			} else if err != nil {
				return len(orphans), err
			}
			gens[id.key] = m
		}
		if m == nil || m.isInline || m.spilled || m.gen != id.gen || id.index >= m.chunks() {
			orphans = append(orphans, k)
		}
	}
	for _, k := range orphans {
		if err := c.rc.Unlink(ctx, k).Err(); err != nil {
			return 0, err
		}
	}
	return len(orphans), nil
}
