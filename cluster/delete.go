package cluster

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Delete removes key's value: its manifest (GETDEL, then WAIT for
// ReplicationFactor-1 replicas), then its chunks. It returns ErrNotFound
// when key has no value, at once (nothing to wait for), and nil, not
// ErrNotFound, when the key has no value after a GETDEL whose reply was
// lost, which may have removed it.
//
// When the WAIT still falls short at RetryTimeout, or the cluster cannot be
// reached for that long, Delete puts the manifest back (unless another Store
// has written one since) and returns the error, ErrNotReplicated for the
// WAIT: the value stays readable and its chunks stay. Only if the manifest
// cannot be put back either (or a lost reply left it unknown) does the
// error say "the value may be deleted"; its chunks stay then too, since a
// failover could bring the manifest back, and Sweep removes them once it is
// surely gone. A Sweep that runs while such a Delete retries may take the
// chunks of the manifest it puts back: the value then reads ErrCorrupt,
// never wrong bytes.
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
	var (
		raw    string // the manifest GETDEL removed, when found
		found  bool
		maybe  bool // a GETDEL whose reply was lost may have removed one
		absent bool // the first GETDEL (or one after refused ones) found nothing
	)
	err := c.retry(ctx, fmt.Sprintf("deleting %q", key), func(ctx context.Context) error {
		node, err := c.rc.MasterForKey(ctx, mk)
		if err != nil {
			return err
		}
		replies, _, waitErr := c.writeOn(ctx, node, true, func(p redis.Pipeliner) redis.Cmder {
			return p.GetDel(ctx, mk)
		})
		switch v, err := replies[0].(*redis.StringCmd).Result(); {
		case err == nil:
			raw, found = v, true
		case err != redis.Nil:
			maybe = maybe || mayHaveRun(err)
			return err
		case !found && !maybe:
			// Nothing deleted, nothing to wait for: the WAIT would still
			// fail while a replica is down.
			absent = true
			return nil
		}
		return waitErr
	})
	switch {
	case err != nil && found && c.restore(mk, raw):
		return err
	case err != nil && found:
		return fmt.Errorf("%w (the value may be deleted: its manifest could not be put back)", err)
	case err != nil && maybe:
		return fmt.Errorf("%w (the value may be deleted: a GETDEL's reply was lost)", err)
	case err != nil:
		return err
	case absent:
		return fmt.Errorf("%w: %q", ErrNotFound, key)
	}
	c.deletes.Add(1) // then a Retrieve's nearPut of what it read before skips, or undoes, its copy
	c.nearDelete(key)
	if !found {
		return nil // what a lost reply removed is not known: its chunks are left to Sweep
	}
	if m, err := parseManifest([]byte(raw)); err == nil {
		c.dropValue(key, m)
	}
	return nil
}

// restore puts back the manifest raw that a failed Delete removed, unless
// the key holds another since (SET NX: a newer Store wins), and reports
// whether it succeeded.
func (c *Cluster) restore(mk, raw string) bool {
	return c.retry(context.Background(), "putting the manifest back", func(ctx context.Context) error {
		return c.rc.SetNX(ctx, mk, raw, 0).Err()
	}) == nil
}
