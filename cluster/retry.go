package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// errFewAcks is a WAIT that returned fewer acknowledgements than needed; it
// is retried (a replica may be resynchronizing after a failover) until the
// retry timeout, then reported as ErrNotReplicated.
type errFewAcks struct{ got, want int64 }

func (e *errFewAcks) Error() string {
	return fmt.Sprintf("%d of %d replica acknowledgements", e.got, e.want)
}

// isNetErr reports whether err is a failure to reach or hear from a node.
func isNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, redis.ErrClosed) ||
		strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "broken pipe")
}

// transient reports whether err may pass once the cluster has settled: a
// node down, a slot moved, a failover under way, too few acknowledgements.
// An ASK is not: asking the same node again never helps (writeOn follows
// it, and go-redis does for the rest).
func transient(err error) bool {
	var few *errFewAcks
	if errors.As(err, &few) || isNetErr(err) {
		return true
	}
	msg := err.Error()
	for _, p := range []string{"MOVED", "READONLY", "CLUSTERDOWN", "TRYAGAIN", "LOADING", "MASTERDOWN", "NOREPLICAS"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return strings.Contains(msg, "i/o timeout") || strings.Contains(msg, "pool timeout")
}

// isOOM reports whether err is Redis refusing a write under maxmemory.
func isOOM(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "OOM ") }

// retry runs op until it succeeds, fails with an error that is not
// transient, or RetryTimeout has passed since the first attempt. Between
// attempts it reloads the cluster's slot maps: at once after a node could
// not be reached (a failover may have moved its slots), else in the
// background. An attempt is bounded by IOTimeout and DialTimeout, not by
// RetryTimeout: a step moving tens of megabytes on a busy machine may
// outlast RetryTimeout and still succeed (cutting it made a 256 MiB read
// fail under load, and a Store with a replica down report the cut read,
// not ErrNotReplicated). The error it returns wraps ErrNotReplicated for
// too few acknowledgements, ErrNoSpace for OOM and ErrCorrupt for
// WRONGTYPE.
func (c *Cluster) retry(ctx context.Context, what string, op func(ctx context.Context) error) error {
	deadline := time.Now().Add(c.opt.RetryTimeout)
	pause := 50 * time.Millisecond
	for {
		err := op(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || !transient(err) || time.Until(deadline) <= pause {
			return c.classify(what, err)
		}
		c.reload(ctx, deadline, err)
		select {
		case <-ctx.Done():
			return c.classify(what, ctx.Err())
		case <-time.After(pause):
		}
		pause = min(2*pause, 500*time.Millisecond)
	}
}

// reload refreshes the slot maps of both clients after err: before it
// returns (by deadline) when err is a node out of reach, since go-redis
// would otherwise keep sending to it until its background reload lands,
// else in the background.
func (c *Cluster) reload(ctx context.Context, deadline time.Time, err error) {
	clients := []*redis.ClusterClient{c.rc}
	if c.readers != c.rc {
		clients = append(clients, c.readers)
	}
	if !isNetErr(err) {
		for _, cl := range clients {
			cl.ReloadState(ctx)
		}
		return
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	for _, cl := range clients {
		// ForEachMaster reloads the map first (CLUSTER SLOTS from the first
		// node that answers), which ReloadState only schedules.
		_ = cl.ForEachMaster(ctx, func(context.Context, *redis.Client) error { return nil })
	}
}

func (c *Cluster) classify(what string, err error) error {
	var few *errFewAcks
	switch {
	case errors.As(err, &few):
		return fmt.Errorf("%w: %s: %v (ReplicationFactor %d, WaitTimeout %v)", ErrNotReplicated, what, err, c.opt.ReplicationFactor, c.opt.WaitTimeout)
	case isOOM(err):
		return fmt.Errorf("%w: %s: %v", ErrNoSpace, what, err)
	case strings.HasPrefix(err.Error(), "WRONGTYPE "):
		// A manifest or chunk key holding another Redis type: not ours.
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, what, err)
	}
	return fmt.Errorf("cluster: %s: %w", what, err)
}
