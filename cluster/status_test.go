package cluster_test

import (
	"context"
	"errors"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/tiermem/tiermem/cluster"
)

func TestNodeStatus(t *testing.T) {
	defer healthy(t)
	c := open(t, cluster.Options{})
	ctx := context.Background()
	nodes, err := c.NodeStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	masters, slots := 0, 0
	for _, n := range nodes {
		if !n.Online || n.UsedMemory <= 0 || n.ID == "" {
			t.Errorf("node %+v", n)
		}
		if n.Role == "master" {
			masters++
			slots += n.Slots
		} else if n.MasterID == "" {
			t.Errorf("replica without master: %+v", n)
		}
	}
	if len(nodes) != 6 || masters != 3 || slots != 16384 {
		t.Fatalf("%d nodes, %d masters, %d slots", len(nodes), masters, slots)
	}
	replicas, _ := rc.Replicas()
	if err := rc.Kill(replicas[0]); err != nil {
		t.Fatal(err)
	}
	nodes, err = c.NodeStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if n.Addr == rc.Addr(replicas[0]) && n.Online {
			t.Fatalf("a killed replica reported online: %+v", n)
		}
	}
}

// startPlain starts one redis-server on port with extra arguments, stopped
// when the test ends.
func startPlain(t *testing.T, port int, args ...string) string {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command("redis-server", append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--dir", t.TempDir()}, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for range 100 {
		if c, err := cluster.Open(context.Background(), cluster.Options{Nodes: []string{addr}, DialTimeout: 100 * time.Millisecond}); err == nil {
			c.Close()
			break
		} else if !errors.Is(err, cluster.ErrNotCluster) && !errors.Is(err, cluster.ErrClusterDown) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		break
	}
	return addr
}

func TestOpenRefuses(t *testing.T) {
	ctx := context.Background()
	plain := startPlain(t, 7026)
	if _, err := cluster.Open(ctx, cluster.Options{Nodes: []string{plain}}); !errors.Is(err, cluster.ErrNotCluster) {
		t.Fatalf("Open on a plain redis-server: %v", err)
	}
	lone := startPlain(t, 7027, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	if _, err := cluster.Open(ctx, cluster.Options{Nodes: []string{lone}}); !errors.Is(err, cluster.ErrClusterDown) {
		t.Fatalf("Open on a cluster node serving no slot: %v", err)
	}
	if _, err := cluster.Open(ctx, cluster.Options{Nodes: []string{"127.0.0.1:1"}, DialTimeout: 100 * time.Millisecond}); err == nil {
		t.Fatal("Open on a closed port succeeded")
	}
}
