package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// Cluster stores values in a Redis Cluster. It is safe for concurrent use by
// any number of goroutines. Close waits for the operations in flight; those
// that begin after Close began return ErrClosed.
type Cluster struct {
	opt     Options
	rc      *redis.ClusterClient // writes and manifests: masters only
	readers *redis.ClusterClient // chunk reads: replicas too with ReadFromReplicas, else rc

	mu sync.RWMutex // held shared by every operation, exclusively by Close
	// closed is set by Close before it takes mu, so that an operation that
	// begins after Close began returns ErrClosed at once instead of queueing
	// behind Close's Lock, which waits for the operations in flight; enter
	// checks it again under mu.
	closed atomic.Bool

	targets targets // clients of the nodes redirections named (redirect.go)

	// cleanup counts the background deletions of replaced values' chunks,
	// started under mu held shared; Close waits for them.
	cleanup sync.WaitGroup

	// deletes counts the Deletes that removed a manifest, so that a
	// Retrieve that read a value before one does not leave its copy in the
	// near cache after it (near.go).
	deletes atomic.Uint64
}

// quiet drops go-redis's log lines (a dead seed node logs on every dial).
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

var silenceOnce sync.Once

// Open connects to the Redis Cluster that opt.Nodes belong to and checks it:
// it fails with ErrNotCluster when the nodes do not run in cluster mode,
// ErrClusterDown when the cluster is not cluster_state:ok, and ErrOptions
// when opt is invalid or ReplicationFactor-1 exceeds the replicas of some
// master. Open silences go-redis's process-wide logger, which would log
// every failed dial of a dead node.
func Open(ctx context.Context, opt Options) (*Cluster, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	silenceOnce.Do(func() { redis.SetLogger(quiet{}) })
	c := &Cluster{opt: opt, rc: redis.NewClusterClient(opt.clientOptions(false))}
	c.readers = c.rc
	if opt.ReadFromReplicas {
		c.readers = redis.NewClusterClient(opt.clientOptions(true))
	}
	if err := c.check(ctx); err != nil {
		c.closeClients()
		return nil, err
	}
	return c, nil
}

// clientOptions are the options of the go-redis cluster clients. One
// attempt of the package's retry (retry.go) is one try per node: go-redis's
// own retries of a dead node, under the slot map it had, would hold an
// attempt past RetryTimeout, where retry reloads the map instead. Two
// redirections: a MOVED, then an ASK.
func (o *Options) clientOptions(replicas bool) *redis.ClusterOptions {
	return &redis.ClusterOptions{
		Addrs:                 o.Nodes,
		Username:              o.Username,
		Password:              o.Password,
		MaxRedirects:          2,
		MaxRetries:            -1,
		DialerRetries:         1,
		DialTimeout:           o.DialTimeout,
		ReadTimeout:           o.IOTimeout,
		WriteTimeout:          o.IOTimeout,
		ContextTimeoutEnabled: true,
		RouteRandomly:         replicas,
		PoolSize:              4 * o.Streams,
		DisableIdentity:       true,
	}
}

// check runs Open's checks against the first seed node that answers.
func (c *Cluster) check(ctx context.Context) error {
	var lastErr error
	for _, addr := range c.opt.Nodes {
		n := redis.NewClient(&redis.Options{Addr: addr, Username: c.opt.Username, Password: c.opt.Password,
			DialTimeout: c.opt.DialTimeout, ReadTimeout: c.opt.DialTimeout, DisableIdentity: true, MaxRetries: -1})
		lastErr = c.checkNode(ctx, n)
		n.Close()
		if lastErr == nil || !isNetErr(lastErr) {
			return lastErr
		}
	}
	return fmt.Errorf("cluster: no node answers: %w", lastErr)
}

func (c *Cluster) checkNode(ctx context.Context, n *redis.Client) error {
	info, err := n.ClusterInfo(ctx).Result()
	if err != nil {
		if strings.Contains(err.Error(), "cluster support disabled") {
			return fmt.Errorf("%w: %s: %v", ErrNotCluster, n.Options().Addr, err)
		}
		return fmt.Errorf("cluster: CLUSTER INFO on %s: %w", n.Options().Addr, err)
	}
	if !strings.Contains(info, "cluster_state:ok") {
		return fmt.Errorf("%w: %s", ErrClusterDown, n.Options().Addr)
	}
	shards, err := n.ClusterShards(ctx).Result()
	if err != nil {
		return fmt.Errorf("cluster: CLUSTER SHARDS on %s: %w", n.Options().Addr, err)
	}
	fewest := -1
	for _, s := range shards {
		if len(s.Slots) == 0 {
			continue
		}
		replicas := 0
		for _, nd := range s.Nodes {
			// Redis 7.0 reports a replica that has replicated nothing yet
			// (offset 0) as "loading": only "failed" is a replica missing.
			if nd.Role == "replica" && nd.Health != "failed" {
				replicas++
			}
		}
		if fewest < 0 || replicas < fewest {
			fewest = replicas
		}
	}
	if c.opt.ReplicationFactor-1 > fewest {
		return fmt.Errorf("%w: ReplicationFactor %d needs %d replicas per master, the cluster has %d on some master",
			ErrOptions, c.opt.ReplicationFactor, c.opt.ReplicationFactor-1, max(fewest, 0))
	}
	return nil
}

// enter begins an operation: it returns ErrClosed, at once, after Close
// began, else the caller must call c.mu.RUnlock when it ends.
func (c *Cluster) enter() error {
	if c.closed.Load() {
		return ErrClosed
	}
	c.mu.RLock()
	if c.closed.Load() {
		c.mu.RUnlock()
		return ErrClosed
	}
	return nil
}

// Close waits for the operations in flight and the deletions of replaced
// values they started, then closes the connections; operations that begin
// meanwhile return ErrClosed at once. It does not close the near cache.
// Calling it again returns ErrClosed.
func (c *Cluster) Close() error {
	if c.closed.Swap(true) {
		return ErrClosed
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cleanup.Wait()
	return c.closeClients()
}

func (c *Cluster) closeClients() error {
	err := errors.Join(c.rc.Close(), c.targets.close())
	if c.readers != c.rc {
		err = errors.Join(err, c.readers.Close())
	}
	return err
}

// Client returns the go-redis client the Cluster writes through, for what
// this package does not do (it is the same client the benchmarks' baseline
// uses). It is valid until Close.
func (c *Cluster) Client() *redis.ClusterClient { return c.rc }
