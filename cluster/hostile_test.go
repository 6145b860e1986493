package cluster_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem/cluster"
	"github.com/tiermem/tiermem/internal/childtest"
)

// manifestOf returns the raw manifest of key, read behind the package's back.
func manifestOf(t *testing.T, key string) []byte {
	t.Helper()
	b, err := raw(t).Get(context.Background(), cluster.ManifestKey(key)).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCorruptChunk damages one chunk in place (SETRANGE), then deletes one:
// both reads are ErrCorrupt, never bytes; so is a damaged manifest.
func TestCorruptChunk(t *testing.T) {
	c := open(t, cluster.Options{ChunkSize: 64 << 10, ReplicationFactor: 2})
	ctx := context.Background()
	want := pattern(1<<20, 9)
	if err := c.Store(ctx, "corrupt", want); err != nil {
		t.Fatal(err)
	}
	ck, err := cluster.ChunkKeyOf("corrupt", manifestOf(t, "corrupt"), 5)
	if err != nil {
		t.Fatal(err)
	}
	r := raw(t)
	flipped := []byte{want[5*64<<10+100] ^ 0xff}
	if err := r.SetRange(ctx, ck, 100, string(flipped)).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Retrieve(ctx, "corrupt"); !errors.Is(err, cluster.ErrCorrupt) || got != nil {
		t.Fatalf("Retrieve of a damaged chunk: %d bytes, %v", len(got), err)
	}
	replicas := open(t, cluster.Options{ReadFromReplicas: true})
	if _, err := replicas.Retrieve(ctx, "corrupt"); !errors.Is(err, cluster.ErrCorrupt) {
		t.Fatalf("Retrieve from replicas of a damaged chunk: %v", err)
	}
	if err := r.Del(ctx, ck).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Retrieve(ctx, "corrupt"); !errors.Is(err, cluster.ErrCorrupt) {
		t.Fatalf("Retrieve with a chunk missing: %v", err)
	}
	if err := c.Store(ctx, "corrupt-manifest", []byte("small")); err != nil {
		t.Fatal(err)
	}
	if err := r.SetRange(ctx, cluster.ManifestKey("corrupt-manifest"), 50, "?").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Retrieve(ctx, "corrupt-manifest"); !errors.Is(err, cluster.ErrCorrupt) {
		t.Fatalf("Retrieve with a damaged manifest: %v", err)
	}
}

const childEnv = "TIERMEM_CLUSTER_WRITER"

// TestWriterChild is the writer process TestWriterKilled kills: it stores
// key "killed" over and over, printing the seed of every Store that
// returned.
func TestWriterChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("the writer process of TestWriterKilled")
	}
	c, err := cluster.Open(context.Background(), cluster.Options{Nodes: strings.Split(os.Getenv(childEnv), ","), ChunkSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	vals := killedValues()
	for seed := 1; ; seed++ {
		if err := c.Store(context.Background(), "killed", vals[seed%len(vals)]); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("stored %d\n", seed)
	}
}

// killedValues returns the values the writer of TestWriterKilled stores in
// turn: 8 MiB each, 128 chunks of 64 KiB.
func killedValues() [][]byte {
	return [][]byte{pattern(8<<20, 1), pattern(8<<20, 2), pattern(8<<20, 3)}
}

// TestWriterKilled SIGKILLs a process in the middle of Stores: the value
// read afterwards is one the writer stored, whole, and Sweep removes the
// dead Store's chunks and nothing else.
func TestWriterKilled(t *testing.T) {
	c := open(t, cluster.Options{ChunkSize: 64 << 10})
	ctx := context.Background()
	vals := killedValues()
	for round := 0; ; round++ {
		cmd := childtest.Command("TestWriterChild", childEnv+"="+strings.Join(rc.Addrs(), ","))
		cmd.Args = append(cmd.Args, "-test.v")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		last := 0
		for lines.Scan() {
			if s, ok := strings.CutPrefix(lines.Text(), "stored "); ok {
				last, _ = strconv.Atoi(s)
				if last >= 2 {
					break
				}
			}
		}
		time.Sleep(time.Duration(5+round*13%40) * time.Millisecond) // a different point in the Store each round
		cmd.Process.Kill()
		cmd.Wait()
		if last < 2 {
			t.Fatalf("the writer stored %d values before it was killed", last)
		}
		got, err := c.Retrieve(ctx, "killed")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, vals[last%len(vals)]) && !bytes.Equal(got, vals[(last+1)%len(vals)]) {
			t.Fatalf("after the kill, the value is neither the last stored (%d) nor the next", last)
		}
		left := chunkCount(t, "killed")
		if left == 128 && round < 5 {
			continue // killed between two Stores: no orphan to sweep; again
		}
		if left == 128 {
			t.Fatal("five kills, none in the middle of a Store")
		}
		time.Sleep(1100 * time.Millisecond) // chunk keys carry the second their Store began
		st, err := c.Sweep(ctx, time.Nanosecond)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %d chunks left by the kill, sweep: %+v", round, left-128, st)
		if st.Orphans < left-128 {
			t.Fatalf("sweep removed %d orphans, %d were left", st.Orphans, left-128)
		}
		if n := chunkCount(t, "killed"); n != 128 {
			t.Fatalf("%d chunks after the sweep, want 128", n)
		}
		if again, err := c.Retrieve(ctx, "killed"); err != nil || !bytes.Equal(again, got) {
			t.Fatalf("after the sweep: %v", err)
		}
		return
	}
}

// TestReplicaDown stops a replica: with ReplicationFactor 2, Stores whose
// chunks reach its master fail with ErrNotReplicated and the previous value
// stays; once it is back, Stores succeed again.
func TestReplicaDown(t *testing.T) {
	defer healthy(t)
	c := open(t, cluster.Options{ChunkSize: 64 << 10, ReplicationFactor: 2,
		WaitTimeout: 300 * time.Millisecond, RetryTimeout: time.Second})
	ctx := context.Background()
	old := pattern(2<<20, 1) // 32 chunks: some on every master
	if err := c.Store(ctx, "replica-down", old); err != nil {
		t.Fatal(err)
	}
	replicas, err := rc.Replicas()
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Kill(replicas[0]); err != nil {
		t.Fatal(err)
	}
	err = c.Store(ctx, "replica-down", pattern(2<<20, 2))
	if !errors.Is(err, cluster.ErrNotReplicated) {
		t.Fatalf("Store with a replica down: %v, want ErrNotReplicated", err)
	}
	t.Log(err)
	if got, err := c.Retrieve(ctx, "replica-down"); err != nil || !bytes.Equal(got, old) {
		t.Fatalf("the previous value after a failed Store: %v", err)
	}
	healthy(t)
	if err := c.Store(ctx, "replica-down", pattern(2<<20, 3)); err != nil {
		t.Fatalf("Store with the replica back: %v", err)
	}
}
