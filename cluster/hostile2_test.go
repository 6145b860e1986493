package cluster_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tiermem/tiermem/cluster"
)

// TestHostileMaxChunkSize: Open refuses a ChunkSize that cannot be
// replicated, and every one it accepts can be. A user relies on a Store at
// ReplicationFactor 2 on a healthy cluster with Redis's default limits
// succeeding whatever ChunkSize Open took. Before, Open took up to 256 MiB:
// one such chunk's SET, copied whole into the replica's output buffer,
// passed client-output-buffer-limit replica (256 MB hard), so the master
// dropped the replica on every try and the Store failed with "0 of 1
// replica acknowledgements", leaving the shard's replica resynchronizing.
// Now Open refuses above 32 MiB with ErrOptions naming the limit, and a
// value of 8 chunks of 32 MiB (several in flight per master) stores at RF 2.
func TestHostileMaxChunkSize(t *testing.T) {
	defer healthy(t)
	ctx := context.Background()
	for _, size := range []int{256 << 20, 32<<20 + 1} {
		_, err := cluster.Open(ctx, cluster.Options{Nodes: rc.Addrs(), ChunkSize: size, ReplicationFactor: 2})
		if !errors.Is(err, cluster.ErrOptions) || !strings.Contains(err.Error(), "client-output-buffer-limit") {
			t.Fatalf("Open with ChunkSize %d: %v, want ErrOptions naming client-output-buffer-limit", size, err)
		}
	}
	c := open(t, cluster.Options{ChunkSize: 32 << 20, ReplicationFactor: 2, RetryTimeout: 5 * time.Second})
	key := "hostile2/max-chunk"
	want := pattern(256<<20, 7)
	start := time.Now()
	if err := c.Store(ctx, key, want); err != nil {
		var links []string
		for i := range 6 {
			if info, ierr := rc.Info(i, "replication"); ierr == nil && info["role"] == "slave" {
				links = append(links, rc.Addr(i)+" link "+info["master_link_status"])
			}
		}
		t.Fatalf("Store of 256 MiB with ChunkSize 32 MiB, RF 2, healthy cluster: %v after %v; replicas now: %v",
			err, time.Since(start).Round(time.Millisecond), links)
	}
	defer c.Delete(ctx, key)
	if got, err := c.Retrieve(ctx, key); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Retrieve: %d bytes, %v", len(got), err)
	}
}

// TestHostileDeleteNotReplicatedKeepsValue: "ErrNotReplicated … The
// previous value stays readable, unless the error says otherwise". A user
// whose Delete fails (RF 2, the manifest's replica down) relies on the value
// still being there. Before, the GETDEL had run on the master and nothing
// put the manifest back: Retrieve said ErrNotFound, and the chunks were
// left. Now Delete puts the manifest back (SET NX) when the WAIT still falls
// short at RetryTimeout.
func TestHostileDeleteNotReplicatedKeepsValue(t *testing.T) {
	defer healthy(t)
	ctx := context.Background()
	c := open(t, cluster.Options{ReplicationFactor: 2, ChunkSize: 64 << 10,
		WaitTimeout: 100 * time.Millisecond, RetryTimeout: 600 * time.Millisecond})
	key := "hostile2/delete-not-replicated"
	want := pattern(1<<20, 3)
	if err := c.Store(ctx, key, want); err != nil {
		t.Fatal(err)
	}
	hostileKillReplicaOf(t, cluster.ManifestKey(key))
	err := c.Delete(ctx, key)
	if !errors.Is(err, cluster.ErrNotReplicated) {
		t.Fatalf("Delete with the manifest's replica down: %v, want ErrNotReplicated", err)
	}
	got, rerr := c.Retrieve(ctx, key)
	if rerr != nil || !bytes.Equal(got, want) {
		again := c.Delete(ctx, key)
		t.Fatalf("Delete failed with %q; the value should stay readable, but Retrieve gives %d bytes, %v (and a retried Delete: %v)",
			err, len(got), rerr, again)
	}
}

// TestHostileOperationAfterCloseReturnsAtOnce: "Close waits for the
// operations in flight; those that begin after Close began return
// ErrClosed", at once: a user shutting down relies on calls made meanwhile
// not hanging. Before, such a call queued behind Close's write lock (an
// RWMutex holds new readers behind a waiting writer) for as long as the
// slowest operation in flight: here a Store retrying its WAIT for 4 s.
func TestHostileOperationAfterCloseReturnsAtOnce(t *testing.T) {
	defer healthy(t)
	ctx := context.Background()
	c, err := cluster.Open(ctx, cluster.Options{Nodes: rc.Addrs(), ReplicationFactor: 2,
		WaitTimeout: 100 * time.Millisecond, RetryTimeout: 4 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	key := "hostile2/close-blocks"
	hostileKillReplicaOf(t, cluster.ManifestKey(key))
	stored := make(chan error, 1)
	go func() { stored <- c.Store(ctx, key, []byte("never acknowledged")) }()
	time.Sleep(300 * time.Millisecond) // the Store is retrying its WAIT
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	time.Sleep(200 * time.Millisecond) // Close has begun
	start := time.Now()
	_, rerr := c.Retrieve(ctx, "hostile2/other")
	took := time.Since(start)
	t.Logf("Store: %v; Close: %v", <-stored, <-closed)
	if !errors.Is(rerr, cluster.ErrClosed) || took > time.Second {
		t.Fatalf("a Retrieve begun after Close began returned %v after %v; want ErrClosed at once", rerr, took.Round(time.Millisecond))
	}
}

// TestHostileDeleteAbsentKeyReplicaDown: Delete "returns ErrNotFound when
// key has no value", at once. Before, at RF 2 with the replica down, it
// checked the WAIT before what GETDEL found (Redis's WAIT waits for the
// connection's latest offset even after a GETDEL that deleted nothing), so
// a Delete of a key never stored waited out RetryTimeout and failed with
// ErrNotReplicated.
func TestHostileDeleteAbsentKeyReplicaDown(t *testing.T) {
	defer healthy(t)
	ctx := context.Background()
	c := open(t, cluster.Options{ReplicationFactor: 2, WaitTimeout: 100 * time.Millisecond, RetryTimeout: time.Second})
	key := "hostile2/delete-absent"
	hostileKillReplicaOf(t, cluster.ManifestKey(key))
	start := time.Now()
	err := c.Delete(ctx, key)
	if !errors.Is(err, cluster.ErrNotFound) || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("Delete of a key without value, its replica down: %v after %v; want ErrNotFound", err, time.Since(start).Round(time.Millisecond))
	}
}

// TestHostileStoreDuringResharding: Redis Cluster owns sharding, and
// resharding (redis-cli --cluster reshard, adding a master) is online: while
// a slot migrates, its old master answers ASK for keys it does not hold, and
// a client must send the command to the new one after ASKING. A user relies
// on Store, Retrieve and Delete working meanwhile, with ReplicationFactor's
// WAIT on the node that took the write. Before, writes went through
// pipelines on one node (MasterForKey) that followed no redirection, and
// ASK counted as transient: the same node was asked until RetryTimeout, so
// a Store of a new key (its manifest, or any chunk, on a migrating slot)
// and a Delete failed for as long as the migration lasted.
func TestHostileStoreDuringResharding(t *testing.T) {
	ctx := context.Background()
	c := open(t, cluster.Options{ReplicationFactor: 2, RetryTimeout: 1500 * time.Millisecond})
	key := "hostile2/resharding"
	mk := cluster.ManifestKey(key)
	r := raw(t)
	if err := r.Del(ctx, mk).Err(); err != nil {
		t.Fatal(err)
	}
	slot := strconv.FormatInt(r.ClusterKeySlot(ctx, mk).Val(), 10)
	src := hostileNodeOf(t, mk)
	masters, err := rc.Masters()
	if err != nil {
		t.Fatal(err)
	}
	dst := masters[0]
	if dst == src {
		dst = masters[1]
	}
	srcID, err1 := rc.Do(src, "CLUSTER", "MYID")
	dstID, err2 := rc.Do(dst, "CLUSTER", "MYID")
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Do(dst, "CLUSTER", "SETSLOT", slot, "IMPORTING", srcID); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// What a fixed Store left on the importing node, then the slot back to normal.
		d := redis.NewClient(&redis.Options{Addr: rc.Addr(dst), PoolSize: 1})
		d.Pipelined(context.Background(), func(p redis.Pipeliner) error {
			p.Do(context.Background(), "ASKING")
			p.Del(context.Background(), mk)
			return nil
		})
		d.Close()
		rc.Do(src, "CLUSTER", "SETSLOT", slot, "STABLE")
		rc.Do(dst, "CLUSTER", "SETSLOT", slot, "STABLE")
	})
	if _, err := rc.Do(src, "CLUSTER", "SETSLOT", slot, "MIGRATING", dstID); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, key); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("Delete of a key without value while its slot migrates: %v, want ErrNotFound", err)
	}
	want := []byte("stored while its slot migrates")
	if err := c.Store(ctx, key, want); err != nil {
		t.Fatalf("Store of a new key while its manifest's slot migrates: %v", err)
	}
	if got, err := c.Retrieve(ctx, key); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Retrieve after the Store: %q, %v", got, err)
	}
	if err := c.Delete(ctx, key); err != nil {
		t.Fatalf("Delete of the value on the importing node: %v", err)
	}
	if _, err := c.Retrieve(ctx, key); !errors.Is(err, cluster.ErrNotFound) {
		t.Fatalf("Retrieve after the Delete: %v, want ErrNotFound", err)
	}
}

// TestHostileRetrieveAfterFailoverWithinRetryTimeout: "RetryTimeout is how
// long an operation keeps retrying through a failover before it fails". A
// client idle while a master died and its replica took over reads, once the
// failover is over, a small value whose manifest's master died and one of 64
// chunks (some on every master) whose manifest lives elsewhere: a user
// relies on both reads succeeding, well within RetryTimeout. Before, both
// failed with "connection refused" to the dead node or ran past 4 s (with
// RetryTimeout 2 s): go-redis, under the package's retry, kept retrying the
// dead node itself (8 redirects for a pipeline, 5 dial attempts each)
// without reloading the slot map, and retry checked RetryTimeout only after
// such an attempt. Now each attempt ends at the deadline, go-redis tries
// each node once, and the map is reloaded before the next attempt.
func TestHostileRetrieveAfterFailoverWithinRetryTimeout(t *testing.T) {
	defer healthy(t)
	ctx := context.Background()
	c := open(t, cluster.Options{ChunkSize: 64 << 10, RetryTimeout: 2 * time.Second})
	masters, err := rc.Masters()
	if err != nil {
		t.Fatal(err)
	}
	victim := masters[0]
	small, big := "", ""
	for i := 0; small == "" || big == ""; i++ {
		k := "hostile2/after-failover/" + strconv.Itoa(i)
		if hostileNodeOf(t, cluster.ManifestKey(k)) == victim {
			small = cmp.Or(small, k)
		} else {
			big = cmp.Or(big, k)
		}
	}
	values := map[string][]byte{small: []byte("small"), big: pattern(4<<20, 4)}
	for k, v := range values {
		if err := c.Store(ctx, k, v); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Retrieve(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if err := rc.Kill(victim); err != nil {
		t.Fatal(err)
	}
	waitFailover(t)
	var wg sync.WaitGroup
	for k, want := range values {
		wg.Go(func() {
			rctx, cancel := context.WithTimeout(ctx, 4*time.Second) // RetryTimeout and then some
			defer cancel()
			start := time.Now()
			got, err := c.Retrieve(rctx, k)
			t.Logf("Retrieve of %d bytes once the failover was over: %v", len(want), time.Since(start).Round(time.Millisecond))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("Retrieve of %d bytes once the failover was over (RetryTimeout 2s): %v after %v",
					len(want), err, time.Since(start).Round(time.Millisecond))
			}
		})
	}
	wg.Wait()
}
