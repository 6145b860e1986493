package cluster

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// A write adds one command to p and returns it, for writeOn.
type write func(p redis.Pipeliner) redis.Cmder

// maxHops bounds the redirections writeOn follows for one command: a MOVED
// from a master the slot map still names, then an ASK from a slot being
// migrated.
const maxHops = 2

// writeOn sends writes to node in one pipeline, ended by a WAIT if wait (and
// ReplicationFactor > 1), and follows the ASK and MOVED replies, as Redis
// Cluster asks of its clients while slots move (resharding): the writes
// redirected are sent again to the node named, each after ASKING for an ASK,
// in one pipeline per node that ends with a WAIT too, so that every WAIT
// covers the writes made on its node. It returns the last reply to each
// write, whether any write was redirected, and the first error of the WAITs
// (a WAIT that failed, or errFewAcks).
func (c *Cluster) writeOn(ctx context.Context, node *redis.Client, wait bool, writes ...write) (replies []redis.Cmder, redirected bool, waitErr error) {
	replies = make([]redis.Cmder, len(writes))
	asking := make([]bool, len(writes))
	all := make([]int, len(writes))
	for i := range all {
		all[i] = i
	}
	todo := map[*redis.Client][]int{node: all}
	for hop := 0; len(todo) > 0; hop++ {
		next := make(map[*redis.Client][]int)
		for n, idx := range todo {
			var w *redis.Cmd
			_, _ = n.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, i := range idx {
					if asking[i] {
						p.Do(ctx, "ASKING") // for the next command only
					}
					replies[i] = writes[i](p)
				}
				if wait {
					w = c.pipeWait(ctx, p)
				}
				return nil
			})
			if err := c.checkWait(w); err != nil && waitErr == nil {
				waitErr = err
			}
			for _, i := range idx {
				if hop == maxHops || replies[i].Err() == nil {
					continue
				}
				addr, ask := redis.IsAskError(replies[i].Err())
				if !ask {
					var moved bool
					if addr, moved = redis.IsMovedError(replies[i].Err()); !moved {
						continue
					}
					c.rc.ReloadState(ctx) // the slot map is stale
				}
				t := c.targets.client(addr, &c.opt)
				asking[i], redirected = ask, true
				next[t] = append(next[t], i)
			}
		}
		todo = next
	}
	return replies, redirected, waitErr
}

// targets holds clients of the nodes that redirections named, which the
// slot map may not name yet (a new master receiving its first slots).
type targets struct {
	mu sync.Mutex               // protects m
	m  map[string]*redis.Client // by address
}

// client returns the client of the node at addr, made with opt.
func (t *targets) client(addr string, opt *Options) *redis.Client {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cl, ok := t.m[addr]; ok {
		return cl
	}
	if t.m == nil {
		t.m = make(map[string]*redis.Client)
	}
	cl := redis.NewClient(&redis.Options{Addr: addr, Username: opt.Username, Password: opt.Password,
		DialTimeout: opt.DialTimeout, DialerRetries: 1, ReadTimeout: opt.IOTimeout, WriteTimeout: opt.IOTimeout,
		ContextTimeoutEnabled: true, PoolSize: opt.Streams, MaxRetries: -1, DisableIdentity: true})
	t.m[addr] = cl
	return cl
}

// close closes every client.
func (t *targets) close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var err error
	for _, cl := range t.m {
		if cerr := cl.Close(); err == nil {
			err = cerr
		}
	}
	t.m = nil
	return err
}
