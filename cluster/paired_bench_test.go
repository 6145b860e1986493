package cluster_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tiermem/tiermem/cluster"
)

// paired runs ours and its baseline in turn, once each per iteration, and
// reports both throughputs and their ratio: on a machine whose load drifts
// (this one is shared), a pair measured seconds apart compares like with
// like, where two benchmarks run a minute apart do not. Each goes first
// every other iteration.
//
// Between the two, untimed, it waits until every replica has caught up with
// its master, so that neither pays for the replication the other left
// behind (a plain SET returns before its replicas have the bytes, a Store
// with ReplicationFactor 2 after), and until the Store's background
// deletion of the replaced value is done, so that the baseline does not pay
// for it. BenchmarkStore, which does not wait, measures Stores back to back,
// deletions included.
func paired(b *testing.B, c *cluster.Cluster, n int, ours, baseline func()) {
	cl := c.Client()
	waitCleanup := func() { b.StopTimer(); c.WaitCleanup(); b.StartTimer() }
	var tOurs, tBase time.Duration
	b.ReportAllocs()
	timed := func(f func(), into *time.Duration) {
		waitCleanup()
		settle(b, cl)
		start := time.Now()
		f()
		*into += time.Since(start)
	}
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 { // each goes first every other time: neither always inherits the other's garbage
			timed(ours, &tOurs)
			timed(baseline, &tBase)
		} else {
			timed(baseline, &tBase)
			timed(ours, &tOurs)
		}
	}
	mbps := func(d time.Duration) float64 { return float64(n) * float64(b.N) / d.Seconds() / 1e6 }
	b.ReportMetric(mbps(tOurs), "MB/s")
	b.ReportMetric(mbps(tBase), "baseline-MB/s")
	b.ReportMetric(tBase.Seconds()/tOurs.Seconds(), "ratio")
}

// BenchmarkPaired compares Store and Retrieve of the array with plain
// pipelined SET and GET of the same bytes in 4 MiB values through the same
// client (BenchmarkBaselineSet, BenchmarkBaselineGet), and a near-cache hit
// with the local Manager's Retrieve (BenchmarkManagerRetrieve), in pairs.
func BenchmarkPaired(b *testing.B) {
	a := benchArray(b)
	ctx := context.Background()
	keys := baselineKeys(len(a.Data))
	for _, rf := range []int{1, 2} {
		b.Run(fmt.Sprintf("Store/RF=%d", rf), func(b *testing.B) {
			c := open(b, cluster.Options{ReplicationFactor: rf})
			paired(b, c, len(a.Data), func() {
				if err := c.StoreArray(ctx, "bench/array", a); err != nil {
					b.Fatal(err)
				}
			}, func() { baselineSet(b, c.Client(), keys, a.Data) })
		})
	}
	// What writing a new generation costs by itself: plain SETs of the same
	// 4 MiB values to new keys, the previous ones unlinked (untimed), against
	// SETs over the same keys. A Store cannot overwrite in place: the
	// previous value must stay readable until the new manifest is in.
	b.Run("FreshKeys", func(b *testing.B) {
		c := open(b, cluster.Options{})
		gen := 0
		genKeys := func(g int) []string {
			k := baselineKeys(len(a.Data))
			for i := range k {
				k[i] += "/gen" + strconv.Itoa(g)
			}
			return k
		}
		paired(b, c, len(a.Data), func() {
			gen++
			baselineSet(b, c.Client(), genKeys(gen), a.Data)
			b.StopTimer()
			unlinkKeys(b, c.Client(), genKeys(gen-1))
			b.StartTimer()
		}, func() { baselineSet(b, c.Client(), keys, a.Data) })
		unlinkKeys(b, c.Client(), genKeys(gen))
	})
	b.Run("Retrieve", func(b *testing.B) {
		c := open(b, cluster.Options{})
		if err := c.StoreArray(ctx, "bench/array", a); err != nil {
			b.Fatal(err)
		}
		baselineSet(b, c.Client(), keys, a.Data)
		paired(b, c, len(a.Data), func() {
			if _, err := c.RetrieveArray(ctx, "bench/array"); err != nil {
				b.Fatal(err)
			}
		}, func() { baselineGet(b, c.Client(), keys, len(a.Data)) })
	})
	b.Run("RetrieveNear", func(b *testing.B) {
		m := nearManager(b)
		c := open(b, cluster.Options{NearCache: m})
		if err := c.StoreArray(ctx, "bench/array", a); err != nil {
			b.Fatal(err)
		}
		if err := m.Store("baseline", a.Data); err != nil {
			b.Fatal(err)
		}
		t1, _ := m.Tier("bench/array")
		t2, _ := m.Tier("baseline")
		if t1 != t2 {
			b.Fatalf("near copy in %v, baseline in %v", t1, t2)
		}
		paired(b, c, len(a.Data), func() {
			if _, err := c.RetrieveArray(ctx, "bench/array"); err != nil {
				b.Fatal(err)
			}
		}, func() {
			if _, err := m.Retrieve("baseline"); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// baselineGet GETs keys in one pipeline and copies them into one buffer.
func baselineGet(b *testing.B, cl *redis.ClusterClient, keys []string, n int) []byte {
	cmds, err := cl.Pipelined(context.Background(), func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Get(context.Background(), k)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	out := make([]byte, n)
	for i, cmd := range cmds {
		copy(out[i*4<<20:], cmd.(*redis.StringCmd).Val())
	}
	return out
}

// settle waits, with the benchmark's timer stopped, until every replica's
// replication offset is its master's.
func settle(b *testing.B, cl *redis.ClusterClient) {
	b.StopTimer()
	defer b.StartTimer()
	ctx := context.Background()
	for range 1000 {
		behind := false
		err := cl.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			info, err := m.Info(ctx, "replication").Result()
			if err != nil {
				return err
			}
			var master string
			for line := range strings.SplitSeq(info, "\r\n") {
				if v, ok := strings.CutPrefix(line, "master_repl_offset:"); ok {
					master = v
				}
			}
			for line := range strings.SplitSeq(info, "\r\n") {
				if strings.HasPrefix(line, "slave") && strings.Contains(line, "offset=") && !strings.Contains(line, "offset="+master+",") {
					behind = true
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if !behind {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Fatal("replicas did not catch up in 10 s")
}

// unlinkKeys deletes keys.
func unlinkKeys(b *testing.B, cl *redis.ClusterClient, keys []string) {
	_, err := cl.Pipelined(context.Background(), func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Unlink(context.Background(), k)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
