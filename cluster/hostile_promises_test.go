package cluster_test

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/cluster"
)

// TestHostileOddKeys: empty and over-long keys are ErrInvalidKey on every
// call; binary keys, keys with hash tags and colons, and the longest key
// round-trip, inline and chunked.
func TestHostileOddKeys(t *testing.T) {
	c := open(t, cluster.Options{ChunkSize: 64 << 10})
	ctx := context.Background()
	for _, bad := range []string{"", strings.Repeat("k", cluster.MaxKeyLen+1)} {
		checks := map[string]error{
			"Store":      c.Store(ctx, bad, []byte("x")),
			"StoreArray": c.StoreArray(ctx, bad, tiermem.Array{DType: tiermem.Int8, Shape: []int{1}, Data: []byte{1}}),
			"Delete":     c.Delete(ctx, bad),
			"Put":        cluster.Put(ctx, c, bad, 1),
		}
		_, checks["Retrieve"] = c.Retrieve(ctx, bad)
		_, checks["RetrieveArray"] = c.RetrieveArray(ctx, bad)
		_, checks["Exists"] = c.Exists(ctx, bad)
		_, checks["Get"] = cluster.Get[int](ctx, c, bad)
		for op, err := range checks {
			if !errors.Is(err, cluster.ErrInvalidKey) {
				t.Errorf("%s of a %d-byte key: %v, want ErrInvalidKey", op, len(bad), err)
			}
		}
	}
	keys := []string{"\x00", "\xff\xfe\x00bin\r\n", "{tag}", "a}:b{:c}", "tm:m:x", "tm:c:{0}:00:1:1:0",
		strings.Repeat("\xff", cluster.MaxKeyLen)}
	for i, k := range keys {
		for _, size := range []int{0, 1, 64 << 10, 64<<10 + 1, 300 << 10} {
			v := pattern(size, byte(i+size))
			if err := c.Store(ctx, k, v); err != nil {
				t.Fatalf("Store %q (%d bytes): %v", k[:min(len(k), 20)], size, err)
			}
			got, err := c.Retrieve(ctx, k)
			if err != nil || !bytes.Equal(got, v) {
				t.Fatalf("Retrieve %q (%d bytes): %d bytes, %v", k[:min(len(k), 20)], size, len(got), err)
			}
		}
		if err := c.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Retrieve(ctx, k); !errors.Is(err, cluster.ErrNotFound) {
			t.Fatalf("after Delete: %v", err)
		}
		if n := chunkCount(t, k); n != 0 {
			t.Fatalf("%d chunks left after Delete", n)
		}
	}
}

// TestHostileCloseMidFlight: Close while many goroutines Store, Retrieve and
// Delete: every call returns nil, a not-found, or ErrClosed, every value
// read is whole, and no goroutine outlives Close.
func TestHostileCloseMidFlight(t *testing.T) {
	before := runtime.NumGoroutine()
	c, err := cluster.Open(context.Background(), cluster.Options{Nodes: rc.Addrs(), ChunkSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	vals := [][]byte{pattern(200<<10, 1), pattern(200<<10, 2), []byte("small")}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := range 12 {
		wg.Go(func() {
			for n := 0; ; n++ {
				key := "hostile/close/" + string(rune('a'+g%3))
				var err error
				switch n % 4 {
				case 0, 1:
					err = c.Store(ctx, key, vals[(g+n)%3])
				case 2:
					var got []byte
					got, err = c.Retrieve(ctx, key)
					if err == nil && !bytes.Equal(got, vals[0]) && !bytes.Equal(got, vals[1]) && !bytes.Equal(got, vals[2]) {
						errs <- errors.New("a read returned bytes no Store wrote")
						return
					}
				case 3:
					err = c.Delete(ctx, key)
				}
				if errors.Is(err, cluster.ErrClosed) {
					return
				}
				if err != nil && !errors.Is(err, cluster.ErrNotFound) && !errors.Is(err, cluster.ErrConflict) {
					errs <- err
					return
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Close(); !errors.Is(err, cluster.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if _, err := c.NodeStatus(ctx); !errors.Is(err, cluster.ErrClosed) {
		t.Errorf("NodeStatus after Close: %v", err)
	}
	if _, err := c.Sweep(ctx, 0); !errors.Is(err, cluster.ErrClosed) {
		t.Errorf("Sweep after Close: %v", err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Close, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// TestHostileCorruptManifestNotOlderValue: with a near cache holding the
// previous value, a damaged current manifest is ErrCorrupt, never the
// near copy; so are a damaged or missing chunk of a value a near copy of
// another generation matches by key.
func TestHostileCorruptManifestNotOlderValue(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	near := open(t, cluster.Options{ChunkSize: 64 << 10, NearCache: m})
	other := open(t, cluster.Options{ChunkSize: 64 << 10})
	old := pattern(1<<20, 1)
	if err := near.Store(ctx, "hostile/nearcorrupt", old); err != nil {
		t.Fatal(err)
	}
	if err := other.Store(ctx, "hostile/nearcorrupt", pattern(1<<20, 2)); err != nil {
		t.Fatal(err)
	}
	ck, err := cluster.ChunkKeyOf("hostile/nearcorrupt", manifestOf(t, "hostile/nearcorrupt"), 3)
	if err != nil {
		t.Fatal(err)
	}
	r := raw(t)
	if err := r.SetRange(ctx, ck, 10, "\x00\x01\x02").Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := near.Retrieve(ctx, "hostile/nearcorrupt"); !errors.Is(err, cluster.ErrCorrupt) || got != nil {
		t.Fatalf("damaged chunk, older near copy: %d bytes (old value: %v), %v", len(got), bytes.Equal(got, old), err)
	}
	if err := r.SetRange(ctx, cluster.ManifestKey("hostile/nearcorrupt"), 30, "\xff").Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := near.Retrieve(ctx, "hostile/nearcorrupt"); !errors.Is(err, cluster.ErrCorrupt) || got != nil {
		t.Fatalf("damaged manifest, older near copy: %d bytes, %v", len(got), err)
	}
	// Truncated manifest.
	raw := manifestOf(t, "hostile/nearcorrupt")
	if err := r.Set(ctx, cluster.ManifestKey("hostile/nearcorrupt"), raw[:len(raw)-3], 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := near.Retrieve(ctx, "hostile/nearcorrupt"); !errors.Is(err, cluster.ErrCorrupt) {
		t.Fatalf("truncated manifest: %v", err)
	}
	r.Del(ctx, cluster.ManifestKey("hostile/nearcorrupt"))
}

// TestHostileCallerOwnsSlices: Store does not keep its argument; Retrieve's
// result (near hit or not) belongs to the caller.
func TestHostileCallerOwnsSlices(t *testing.T) {
	m, err := tiermem.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	for _, opt := range []cluster.Options{{ChunkSize: 64 << 10}, {ChunkSize: 64 << 10, NearCache: m}} {
		c := open(t, opt)
		for _, size := range []int{10, 500 << 10} {
			want := pattern(size, 4)
			in := bytes.Clone(want)
			if err := c.Store(ctx, "hostile/own", in); err != nil {
				t.Fatal(err)
			}
			for i := range in {
				in[i] ^= 0x55
			}
			got, err := c.Retrieve(ctx, "hostile/own")
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("after the caller changed Store's slice: %v", err)
			}
			for i := range got {
				got[i] = 0
			}
			again, err := c.Retrieve(ctx, "hostile/own")
			if err != nil || !bytes.Equal(again, want) {
				t.Fatalf("after the caller changed Retrieve's slice (near %v): %v", opt.NearCache != nil, err)
			}
		}
	}
}

// TestHostileReadFromReplicasReplicaDown: with ReadFromReplicas, a replica
// that dies does not fail reads: its master still serves the chunks.
func TestHostileReadFromReplicasReplicaDown(t *testing.T) {
	defer healthy(t)
	ctx := context.Background()
	c := open(t, cluster.Options{ChunkSize: 64 << 10, ReadFromReplicas: true, RetryTimeout: 8 * time.Second})
	want := pattern(2<<20, 8)
	if err := c.Store(ctx, "hostile/replica-read", want); err != nil {
		t.Fatal(err)
	}
	for range 3 { // make the replicas' connections exist
		if _, err := c.Retrieve(ctx, "hostile/replica-read"); err != nil {
			t.Fatal(err)
		}
	}
	reps, err := rc.Replicas()
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Kill(reps[0]); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		start := time.Now()
		got, err := c.Retrieve(ctx, "hostile/replica-read")
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("read %d with a replica down: %d bytes, %v (after %v)", i, len(got), err, time.Since(start))
		}
	}
}

// TestHostileTypeAndKinds: a bytes key read as an array or Go value is
// ErrType; bad arrays are ErrType; Get with another codec's type is not
// silently wrong.
func TestHostileTypeAndKinds(t *testing.T) {
	c := open(t, cluster.Options{})
	ctx := context.Background()
	if err := c.Store(ctx, "hostile/kind", []byte("bytes")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RetrieveArray(ctx, "hostile/kind"); !errors.Is(err, cluster.ErrType) {
		t.Errorf("RetrieveArray of bytes: %v", err)
	}
	if _, err := cluster.Get[string](ctx, c, "hostile/kind"); !errors.Is(err, cluster.ErrType) {
		t.Errorf("Get of bytes: %v", err)
	}
	for _, a := range []tiermem.Array{
		{DType: 0, Shape: []int{1}, Data: []byte{1}},
		{DType: tiermem.Int8, Shape: []int{-1}, Data: nil},
		{DType: tiermem.Int8, Shape: []int{2}, Data: []byte{1}},
		{DType: tiermem.Int8, Shape: make([]int, 65), Data: nil},
	} {
		if err := c.StoreArray(ctx, "hostile/kind", a); !errors.Is(err, cluster.ErrType) {
			t.Errorf("StoreArray %v: %v", a, err)
		}
	}
	if got, err := c.Retrieve(ctx, "hostile/kind"); err != nil || string(got) != "bytes" {
		t.Errorf("after refused StoreArrays: %q, %v", got, err)
	}
	if err := cluster.Put(ctx, c, "hostile/kind", func() {}); !errors.Is(err, cluster.ErrType) {
		t.Errorf("Put of a func: %v", err)
	}
}

// TestHostileNodeStatusNodeDown: "A node that is down is listed with Online
// false"; masters come first, each followed by its replicas.
func TestHostileNodeStatusNodeDown(t *testing.T) {
	defer healthy(t)
	c := open(t, cluster.Options{})
	ctx := context.Background()
	reps, err := rc.Replicas()
	if err != nil {
		t.Fatal(err)
	}
	victim := rc.Addr(reps[0])
	if err := rc.Kill(reps[0]); err != nil {
		t.Fatal(err)
	}
	nodes, err := c.NodeStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for i, n := range nodes {
		if n.Addr == victim {
			found = true
			if n.Online {
				t.Errorf("killed node %s listed Online: %v", victim, n)
			}
		}
		if n.Role == "replica" && (i == 0 || nodes[i-1].ID != n.MasterID && nodes[i-1].MasterID != n.MasterID) {
			t.Errorf("replica %v not after its master", n)
		}
		_ = n.String()
	}
	if !found {
		t.Errorf("killed node %s not listed: %v", victim, nodes)
	}
}
