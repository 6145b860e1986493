package cluster_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/cluster"
)

func TestStoreRetrieveSizes(t *testing.T) {
	c := open(t, cluster.Options{ReplicationFactor: 2, ChunkSize: 64 << 10})
	ctx := context.Background()
	for i, n := range []int{0, 1, 1000, 64 << 10, 64<<10 + 1, 300 << 10, 1<<20 + 7} {
		key := "sizes/" + string(rune('a'+i))
		want := pattern(n, byte(i))
		if err := c.Store(ctx, key, want); err != nil {
			t.Fatalf("Store %d bytes: %v", n, err)
		}
		got, err := c.Retrieve(ctx, key)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("Retrieve %d bytes: %d bytes, %v", n, len(got), err)
		}
		if ok, err := c.Exists(ctx, key); !ok || err != nil {
			t.Fatalf("Exists: %v, %v", ok, err)
		}
		if err := c.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Retrieve(ctx, key); !errors.Is(err, cluster.ErrNotFound) {
			t.Fatalf("Retrieve after Delete: %v", err)
		}
		if err := c.Delete(ctx, key); !errors.Is(err, cluster.ErrNotFound) {
			t.Fatalf("second Delete: %v", err)
		}
	}
}

func TestReplaceDeletesOldChunks(t *testing.T) {
	c := open(t, cluster.Options{ChunkSize: 64 << 10})
	ctx := context.Background()
	for i := range 3 {
		if err := c.Store(ctx, "replace", pattern(1<<20, byte(i))); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.Retrieve(ctx, "replace")
	if err != nil || !bytes.Equal(got, pattern(1<<20, 2)) {
		t.Fatalf("Retrieve: %v", err)
	}
	if n := chunkCount(t, "replace"); n != 16 {
		t.Fatalf("%d chunks of key replace left, want 16 (one generation)", n)
	}
}

func TestArray(t *testing.T) {
	c := open(t, cluster.Options{ChunkSize: 64 << 10})
	ctx := context.Background()
	xs := make([]float64, 300*200)
	for i := range xs {
		xs[i] = float64(i) / 3
	}
	if err := c.StoreArray(ctx, "matrix", tiermem.Float64Array(xs, 300, 200)); err != nil {
		t.Fatal(err)
	}
	a, err := c.RetrieveArray(ctx, "matrix")
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.Float64s()
	if err != nil || a.DType != tiermem.Float64 || len(a.Shape) != 2 || a.Shape[0] != 300 || a.Shape[1] != 200 {
		t.Fatalf("array %v, %v", a, err)
	}
	for i := range xs {
		if got[i] != xs[i] {
			t.Fatalf("element %d: %v, want %v", i, got[i], xs[i])
		}
	}
	if _, err := c.Retrieve(ctx, "matrix"); !errors.Is(err, cluster.ErrType) {
		t.Fatalf("Retrieve of an array: %v", err)
	}
	bad := tiermem.Array{DType: tiermem.Float64, Shape: []int{3}, Data: make([]byte, 7)}
	if err := c.StoreArray(ctx, "bad", bad); !errors.Is(err, cluster.ErrType) {
		t.Fatalf("StoreArray of a short array: %v", err)
	}
}

type point struct{ X, Y int }

func TestValues(t *testing.T) {
	c := open(t, cluster.Options{})
	ctx := context.Background()
	if err := cluster.Put(ctx, c, "point", point{3, 4}); err != nil {
		t.Fatal(err)
	}
	p, err := cluster.Get[point](ctx, c, "point")
	if err != nil || p != (point{3, 4}) {
		t.Fatalf("Get: %v, %v", p, err)
	}
	if _, err := cluster.Get[point](ctx, c, "missing"); !errors.Is(err, cluster.ErrNotFound) {
		t.Fatalf("Get of a missing key: %v", err)
	}
	if err := c.Store(ctx, "raw", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.Get[point](ctx, c, "raw"); !errors.Is(err, cluster.ErrType) {
		t.Fatalf("Get of bytes: %v", err)
	}
}

func TestInvalid(t *testing.T) {
	ctx := context.Background()
	if _, err := cluster.Open(ctx, cluster.Options{}); !errors.Is(err, cluster.ErrOptions) {
		t.Fatalf("Open without nodes: %v", err)
	}
	if _, err := cluster.Open(ctx, cluster.Options{Nodes: rc.Addrs(), ReplicationFactor: 3}); !errors.Is(err, cluster.ErrOptions) {
		t.Fatalf("Open with RF 3 on one replica per master: %v", err)
	}
	if _, err := cluster.Open(ctx, cluster.Options{Nodes: rc.Addrs(), ChunkSize: 100}); !errors.Is(err, cluster.ErrOptions) {
		t.Fatalf("Open with a 100-byte chunk: %v", err)
	}
	c := open(t, cluster.Options{})
	if err := c.Store(ctx, "", nil); !errors.Is(err, cluster.ErrInvalidKey) {
		t.Fatalf("Store of an empty key: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Retrieve(ctx, "x"); !errors.Is(err, cluster.ErrClosed) {
		t.Fatalf("Retrieve after Close: %v", err)
	}
}
