package cluster_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem/cluster"
	"github.com/tiermem/tiermem/internal/redistest"
)

// rc is the real six-node Redis Cluster every test of the package shares, on
// 127.0.0.1:7000–7005. Tests that kill nodes restart them and wait for the
// cluster to be healthy again before they return.
var rc *redistest.Cluster

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" || slices.ContainsFunc(os.Args, func(a string) bool { return strings.Contains(a, "test.fuzzworker") }) {
		// A writer process of TestWriterKilled, or a fuzzing worker: no
		// cluster of its own.
		os.Exit(m.Run())
	}
	var err error
	if rc, err = redistest.Start(redistest.DefaultBasePort); err != nil {
		// Fail, not skip: a run without Redis must not pass.
		fmt.Fprintln(os.Stderr, "cluster tests need a Redis Cluster:", err)
		os.Exit(1)
	}
	code := m.Run()
	if f := rc.Failovers(); len(f) > 0 {
		fmt.Fprintf(os.Stderr, "failovers during the run (a test's own, or a master busy past the node timeout):\n  %s\n", strings.Join(f, "\n  "))
	}
	rc.Stop()
	os.Exit(code)
}

// open opens a Cluster over rc with opt (Nodes filled in) and closes it when
// the test ends.
func open(tb testing.TB, opt cluster.Options) *cluster.Cluster {
	tb.Helper()
	if opt.Nodes == nil {
		opt.Nodes = rc.Addrs()
	}
	c, err := cluster.Open(context.Background(), opt)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// healthy waits for rc to have all six nodes up, three masters each with its
// replica, after a test that killed some.
func healthy(tb testing.TB) {
	tb.Helper()
	for i := range redistest.Nodes {
		if !rc.Running(i) {
			if err := rc.Restart(i); err != nil {
				tb.Fatal(err)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := rc.WaitHealthy(ctx); err != nil {
		tb.Fatal(err)
	}
}

// pattern returns n bytes that differ with seed.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}
