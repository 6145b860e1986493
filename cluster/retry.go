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
// node down, a slot moving, a failover under way, too few acknowledgements.
func transient(err error) bool {
	var few *errFewAcks
	if errors.As(err, &few) || isNetErr(err) {
		return true
	}
	msg := err.Error()
	for _, p := range []string{"MOVED", "ASK", "READONLY", "CLUSTERDOWN", "TRYAGAIN", "LOADING", "MASTERDOWN", "NOREPLICAS"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return strings.Contains(msg, "i/o timeout") || strings.Contains(msg, "pool timeout")
}

// isOOM reports whether err is Redis refusing a write under maxmemory.
func isOOM(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "OOM ") }

// retry runs op until it succeeds, fails with an error that is not
// transient, or RetryTimeout has passed since the first attempt; between
// attempts it reloads the cluster's slot map. The error it returns wraps
// ErrNotReplicated for too few acknowledgements, ErrNoSpace for OOM and
// ErrCorrupt for WRONGTYPE.
func (c *Cluster) retry(ctx context.Context, what string, op func() error) error {
	deadline := time.Now().Add(c.opt.RetryTimeout)
	pause := 50 * time.Millisecond
	for {
		err := op()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || !transient(err) || time.Now().After(deadline) {
			return c.classify(what, err)
		}
		c.rc.ReloadState(ctx)
		select {
		case <-ctx.Done():
			return c.classify(what, ctx.Err())
		case <-time.After(pause):
		}
		pause = min(2*pause, 500*time.Millisecond)
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
