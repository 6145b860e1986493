package cluster

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Delete removes key's value: its manifest (GETDEL, then WAIT for
// ReplicationFactor-1 replicas), then its chunks. It returns ErrNotFound
// when key has no value. When the WAIT falls short it returns
// ErrNotReplicated and leaves the chunks, since a failover could bring the
// manifest back; Sweep removes them once the manifest is surely gone.
func (c *Cluster) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := c.enter(); err != nil {
		return err
	}
	defer c.mu.RUnlock()
	c.nearDelete(key)
	mk := manifestKey(key)
	var raw string
	found := false
	err := c.retry(ctx, "deleting "+key, func() error {
		node, err := c.rc.MasterForKey(ctx, mk)
		if err != nil {
			return err
		}
		cmds, _ := node.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.GetDel(ctx, mk)
			c.pipeWait(ctx, p)
			return nil
		})
		switch v, err := cmds[0].(*redis.StringCmd).Result(); {
		case err == nil:
			raw, found = v, true
		case err != redis.Nil:
			return err
		}
		for _, cmd := range cmds[1:] {
			if cmd.Err() != nil {
				return cmd.Err()
			}
		}
		return c.checkWait(cmds)
	})
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%w: %q", ErrNotFound, key)
	}
	c.deletes.Add(1) // then a Retrieve's nearPut of what it read before skips, or undoes, its copy
	c.nearDelete(key)
	if m, err := parseManifest([]byte(raw)); err == nil {
		c.dropValue(key, m)
	}
	return nil
}
