package cluster_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tiermem/tiermem/cluster"
)

// raw returns a plain go-redis client on rc, for what tests do behind the
// package's back.
func raw(tb testing.TB) *redis.ClusterClient {
	tb.Helper()
	cl := redis.NewClusterClient(&redis.ClusterOptions{Addrs: rc.Addrs()})
	tb.Cleanup(func() { cl.Close() })
	return cl
}

// chunkCount returns how many chunk keys of key exist, on every master.
func chunkCount(tb testing.TB, key string) int {
	tb.Helper()
	return len(chunkKeys(tb, key))
}

func chunkKeys(tb testing.TB, key string) []string {
	tb.Helper()
	cl := raw(tb)
	var keys []string
	ch := make(chan []string, 3)
	err := cl.ForEachMaster(context.Background(), func(ctx context.Context, n *redis.Client) error {
		var mine []string
		iter := n.Scan(ctx, 0, "tm:c:*", 1000).Iterator()
		for iter.Next(ctx) {
			if cluster.IsChunkOf(iter.Val(), key) {
				mine = append(mine, iter.Val())
			}
		}
		ch <- mine
		return iter.Err()
	})
	if err != nil {
		tb.Fatal(err)
	}
	close(ch)
	for m := range ch {
		keys = append(keys, m...)
	}
	return keys
}
