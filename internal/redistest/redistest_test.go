package redistest

import (
	"context"
	"testing"
	"time"
)

// TestStartStop starts a cluster on ports of its own (7020–7025, so that it
// can run beside the cluster package's tests), checks its shape, and stops it.
func TestStartStop(t *testing.T) {
	c, err := Start(7020)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	m, err := c.Masters()
	if err != nil || len(m) != 3 {
		t.Fatalf("masters %v, %v", m, err)
	}
	r, err := c.Replicas()
	if err != nil || len(r) != 3 {
		t.Fatalf("replicas %v, %v", r, err)
	}
	if err := c.Kill(r[0]); err != nil {
		t.Fatal(err)
	}
	if err := c.Restart(r[0]); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
}
