package server_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/server"
)

// hostileHeap returns the process's live Go heap after a collection; the
// server runs in the test's process.
func hostileHeap() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// hostileStalledHeapGrowth stores value under "big" in tier, sends req
// from a client that never reads a reply to a server with opts, and
// returns the most the Go heap grew, sampled for the given time or until
// it passed limit.
func hostileStalledHeapGrowth(t *testing.T, opts *server.Options, tier tiermem.Tier, value, req []byte, watch time.Duration, limit int64) int64 {
	t.Helper()
	addr, _, m := startTiermem(t, opts)
	if err := m.Store("big", value, tiermem.InTier(tier)); err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr)
	before := hostileHeap()
	go func() { // blocks once the server stops reading; the Close below ends it
		c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		c.nc.Write(req)
	}()
	most := int64(0)
	for deadline := time.Now().Add(watch); time.Now().Before(deadline) && most <= limit; {
		time.Sleep(250 * time.Millisecond)
		most = max(most, hostileHeap()-before)
	}
	c.nc.Close()
	return most
}

// TestRespHostileNonReadingPipelineStaysBounded: a client pipelines 100,000
// GETs of a 1 MiB value (100 GB of replies) and never reads. The server
// reads on while the replies wait for their client, but queues no more
// than MaxOutput (16 MiB here) of them, values sent where they lie
// counted too, whatever the tier: then it stops reading from that client.
func TestRespHostileNonReadingPipelineStaysBounded(t *testing.T) {
	var req []byte
	for range 100000 {
		req = append(req, encode("GET", "big")...)
	}
	const limit = 16 << 20
	for _, tier := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		t.Run(tier.String(), func(t *testing.T) {
			opts := &server.Options{MaxOutput: limit}
			grew := hostileStalledHeapGrowth(t, opts, tier, largeValue(1<<20, 1), req, 2*time.Second, 2*limit)
			t.Logf("100,000 pipelined GETs of 1 MiB never read, a 16 MiB output limit: heap +%.1f MiB", float64(grew)/(1<<20))
			if grew > limit+limit/2 {
				t.Errorf("100,000 pipelined GETs of a 1 MiB value that the client never reads grew the server's heap by %d MiB, over a 16 MiB output limit", grew>>20)
			}
		})
	}
}
