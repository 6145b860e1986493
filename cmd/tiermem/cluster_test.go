package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/cluster"
	"github.com/tiermem/tiermem/internal/childtest"
	"github.com/tiermem/tiermem/internal/redistest"
)

// clusterCmdPort is the first port of the cluster TestClusterCmd starts:
// 7010–7015, apart from the cluster package's, since packages test in
// parallel.
const clusterCmdPort = 7010

// runTiermem runs the root command with args and stdin, and returns its
// stdout and stderr.
func runTiermem(t *testing.T, stdin []byte, args ...string) (string, string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetArgs(args)
	root.SetIn(bytes.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.Execute()
	return out.String(), errOut.String(), err
}

// clusterCmdChild is set in the environment of the process that
// TestClusterCmd runs its checks in.
const clusterCmdChild = "TIERMEM_CLUSTER_CMD_CHILD"

// TestClusterCmd runs every cluster subcommand against a real six-node
// Redis Cluster, which it starts and stops. It fails if redis-server cannot
// start. The checks run in a child process: TestDemoFitsTheRAMItStates reads
// the peak RSS of the demo it starts, which Linux counts from this process's
// own at the fork, so this process must not grow.
func TestClusterCmd(t *testing.T) {
	if os.Getenv(clusterCmdChild) == "" {
		cmd := childtest.Command("TestClusterCmd", clusterCmdChild+"=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return
	}
	rc, err := redistest.Start(clusterCmdPort)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Stop()
	nodes := "--nodes=" + strings.Join(rc.Addrs()[:2], ",")
	// Small values, with small chunks: TestDemoFitsTheRAMItStates reads its
	// child's peak RSS, which Linux counts from this process's at the fork.
	big := bytes.Repeat([]byte("0123456789abcdef"), 20<<10) // 320 KiB: five chunks of 64 KiB
	file := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(file, big, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runTiermem(t, nil, "cluster", "put", nodes, "--replication-factor=2", "--chunk-size=65536", "--progress=always", "big", file); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runTiermem(t, []byte("from stdin"), "cluster", "put", nodes, "small", "-"); err != nil {
		t.Fatal(err)
	}
	out, _, err := runTiermem(t, nil, "cluster", "get", nodes, "small")
	if err != nil || out != "from stdin" {
		t.Fatalf("get small: %q, %v", out, err)
	}
	got := filepath.Join(t.TempDir(), "got")
	if _, _, err := runTiermem(t, nil, "cluster", "get", nodes, "--read-from-replicas", "big", got); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(got); err != nil || !bytes.Equal(b, big) {
		t.Fatalf("get big: %d bytes, %v", len(b), err)
	}
	out, _, err = runTiermem(t, nil, "cluster", "status", nodes)
	if err != nil || strings.Count(out, "\n") != 6 || strings.Count(out, " master ") != 3 {
		t.Fatalf("status: %v\n%s", err, out)
	}
	if _, _, err := runTiermem(t, nil, "cluster", "rm", nodes, "big", "small"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runTiermem(t, nil, "cluster", "get", nodes, "big"); !errors.Is(err, cluster.ErrNotFound) {
		t.Fatalf("get after rm: %v", err)
	}
	out, _, err = runTiermem(t, nil, "cluster", "sweep", nodes, "--grace=1h", "--glacier="+t.TempDir())
	if err != nil || !strings.Contains(out, "0 orphans removed") {
		t.Fatalf("sweep: %q, %v", out, err)
	}
	out, _, err = runTiermem(t, nil, "demo", "--cluster="+rc.Addr(3), "--scale=0.001", "--progress=always")
	if err != nil || !strings.Contains(out, "Successfully retrieved distributed data with shape (10, 10000)\n") ||
		strings.Count(out, ": Online, Memory usage: ") != 6 {
		t.Fatalf("demo --cluster: %v\n%s", err, out)
	}
	if _, _, err := runTiermem(t, nil, "cluster", "status", "--nodes=127.0.0.1:1"); err == nil {
		t.Fatal("status on a closed port succeeded")
	}
}
