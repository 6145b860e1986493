package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"sync/atomic"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/cluster"
	"github.com/tiermem/tiermem/tier/object"
)

// The examples run against the tests' six-node cluster on 127.0.0.1:7000–7005.

func ExampleOpen() {
	ctx := context.Background()
	c, err := cluster.Open(ctx, cluster.Options{
		Nodes:             []string{"127.0.0.1:7000", "127.0.0.1:7001"}, // any reachable node will do
		ReplicationFactor: 2,                                            // master + one replica acknowledge every Store
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Println("connected")
	// Output: connected
}

func ExampleCluster_Store() {
	ctx := context.Background()
	c, err := cluster.Open(ctx, cluster.Options{Nodes: []string{"127.0.0.1:7000"}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.Store(ctx, "greeting", []byte("hello, cluster")); err != nil {
		log.Fatal(err)
	}
	v, err := c.Retrieve(ctx, "greeting")
	fmt.Println(string(v), err)
	// Output: hello, cluster <nil>
}

func ExampleCluster_Retrieve() {
	ctx := context.Background()
	c, err := cluster.Open(ctx, cluster.Options{Nodes: []string{"127.0.0.1:7000"}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	_, err = c.Retrieve(ctx, "never stored")
	fmt.Println(errors.Is(err, cluster.ErrNotFound))
	// Output: true
}

func ExampleCluster_StoreArray() {
	ctx := context.Background()
	c, err := cluster.Open(ctx, cluster.Options{Nodes: []string{"127.0.0.1:7000"}, ReplicationFactor: 2})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	data := make([]float64, 1000*1000) // 8 MB: two chunks of 4 MiB, on two masters
	for i := range data {
		data[i] = float64(i)
	}
	if err := c.StoreArray(ctx, "random_matrix_1", tiermem.Float64Array(data, 1000, 1000)); err != nil {
		log.Fatal(err)
	}
	a, err := c.RetrieveArray(ctx, "random_matrix_1")
	if err != nil {
		log.Fatal(err)
	}
	xs, _ := a.Float64s()
	fmt.Println(a.DType, a.Shape, xs[999_999])
	// Output: float64 [1000 1000] 999999
}

func ExampleCluster_RetrieveArray() {
	ctx := context.Background()
	c, err := cluster.Open(ctx, cluster.Options{Nodes: []string{"127.0.0.1:7000"}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.StoreArray(ctx, "small", tiermem.Int32Array([]int32{1, 2, 3, 4, 5, 6}, 2, 3)); err != nil {
		log.Fatal(err)
	}
	a, err := c.RetrieveArray(ctx, "small")
	if err != nil {
		log.Fatal(err)
	}
	v, _ := a.Int32s()
	fmt.Println(a.DType, a.Shape, v)
	// Output: int32 [2 3] [1 2 3 4 5 6]
}

func ExampleCluster_Exists() {
	ctx := context.Background()
	c, err := cluster.Open(ctx, cluster.Options{Nodes: []string{"127.0.0.1:7000"}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	_ = c.Store(ctx, "present", []byte{1})
	yes, _ := c.Exists(ctx, "present")
	no, _ := c.Exists(ctx, "absent")
	fmt.Println(yes, no)
	// Output: true false
}

func ExampleCluster_Delete() {
	ctx := context.Background()
	c, err := cluster.Open(ctx, cluster.Options{Nodes: []string{"127.0.0.1:7000"}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	_ = c.Store(ctx, "temporary", []byte("soon gone"))
	fmt.Println(c.Delete(ctx, "temporary"))
	fmt.Println(errors.Is(c.Delete(ctx, "temporary"), cluster.ErrNotFound))
	// Output:
	// <nil>
	// true
}

func ExamplePut() {
	ctx := context.Background()
	c, err := cluster.Open(ctx, cluster.Options{Nodes: []string{"127.0.0.1:7000"}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	type config struct {
		Name   string
		Layers []int
	}
	if err := cluster.Put(ctx, c, "config", config{"net", []int{64, 32}}); err != nil {
		log.Fatal(err)
	}
	got, err := cluster.Get[config](ctx, c, "config")
	fmt.Println(got, err)
	// Output: {net [64 32]} <nil>
}

func ExampleGet() {
	ctx := context.Background()
	c, err := cluster.Open(ctx, cluster.Options{Nodes: []string{"127.0.0.1:7000"}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	_ = c.Store(ctx, "plain bytes", []byte("x"))
	_, err = cluster.Get[int](ctx, c, "plain bytes")
	fmt.Println(errors.Is(err, cluster.ErrType))
	// Output: true
}

func ExamplePutWith() {
	ctx := context.Background()
	c, err := cluster.Open(ctx, cluster.Options{Nodes: []string{"127.0.0.1:7000"}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	codec := tiermem.GobCodec[map[string]int]{}
	if err := cluster.PutWith(ctx, c, "counts", map[string]int{"a": 1}, codec); err != nil {
		log.Fatal(err)
	}
	m, err := cluster.GetWith(ctx, c, "counts", codec)
	fmt.Println(m, err)
	// Output: map[a:1] <nil>
}

func ExampleGetWith() {
	ctx := context.Background()
	c, err := cluster.Open(ctx, cluster.Options{Nodes: []string{"127.0.0.1:7000"}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	_ = cluster.PutWith(ctx, c, "word", "tiermem", tiermem.GobCodec[string]{})
	w, err := cluster.GetWith(ctx, c, "word", tiermem.GobCodec[string]{})
	fmt.Println(w, err)
	// Output: tiermem <nil>
}

func ExampleCluster_NodeStatus() {
	ctx := context.Background()
	c, err := cluster.Open(ctx, cluster.Options{Nodes: []string{"127.0.0.1:7000"}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	nodes, err := c.NodeStatus(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, n := range nodes {
		fmt.Println(n) // address, id, role, online, memory, keys, slots, lag
	}
}

func ExampleCluster_Sweep() {
	ctx := context.Background()
	c, err := cluster.Open(ctx, cluster.Options{Nodes: []string{"127.0.0.1:7000"}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	// Remove the chunks of Stores that crashed more than an hour ago.
	st, err := c.Sweep(ctx, time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.Orphans >= 0)
	// Output: true
}

func ExampleCluster_Close() {
	ctx := context.Background()
	c, err := cluster.Open(ctx, cluster.Options{Nodes: []string{"127.0.0.1:7000"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Close())
	_, err = c.Retrieve(ctx, "greeting")
	fmt.Println(errors.Is(err, cluster.ErrClosed))
	// Output:
	// <nil>
	// true
}

func ExampleCluster_Client() {
	ctx := context.Background()
	c, err := cluster.Open(ctx, cluster.Options{Nodes: []string{"127.0.0.1:7000"}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	// The go-redis client, for what this package does not do.
	fmt.Println(c.Client().Ping(ctx).Val())
	// Output: PONG
}

func ExampleNode_String() {
	n := cluster.Node{Addr: "127.0.0.1:7000", ID: "9f0e1d2c3b4a", Role: "master", Health: "online", Online: true,
		UsedMemory: 3 << 20, MaxMemory: 1 << 30, UsagePercent: 0.29, Keys: 12, Slots: 5461}
	fmt.Println(n)
	// Output: 127.0.0.1:7000 9f0e1d2c master online: 3 MiB used (0.3% of 1024 MiB), 12 keys, 5461 slots, lag 0 B
}

func ExampleWithProgress() {
	ctx := context.Background()
	c, err := cluster.Open(ctx, cluster.Options{Nodes: []string{"127.0.0.1:7000"}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	var done atomic.Int64 // called from several goroutines at once
	pctx := cluster.WithProgress(ctx, func(n int64) { done.Add(n) })
	if err := c.Store(pctx, "tracked", make([]byte, 10<<20)); err != nil {
		log.Fatal(err)
	}
	fmt.Println(done.Load())
	// Output: 10485760
}

func ExampleOptions_glacier() {
	ctx := context.Background()
	// A bucket every client shares: a directory here, an S3 bucket in
	// production (tier/object/s3). Values the full cluster refuses go there.
	bucket, err := object.OpenDir(os.TempDir() + "/tiermem-example-glacier")
	if err != nil {
		log.Fatal(err)
	}
	c, err := cluster.Open(ctx, cluster.Options{Nodes: []string{"127.0.0.1:7000"}, Glacier: bucket})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Println(c.Store(ctx, "may spill", make([]byte, 8<<20)))
	// Output: <nil>
}
