package server_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
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
// from a client that never reads a reply, and returns the most the Go heap
// grew, sampled for the given time or until it passed limit.
func hostileStalledHeapGrowth(t *testing.T, tier tiermem.Tier, value, req []byte, watch time.Duration, limit int64) int64 {
	t.Helper()
	addr, _, m := startTiermem(t, nil)
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
// GETs of a 1 MiB value and never reads. Replies are flushed every 64 KiB,
// so the server holds about one value for it, whatever the tier (a hot
// value is sent where it lies, a warm or cold one of 1 MiB is copied into
// the connection's buffer, one at a time).
func TestRespHostileNonReadingPipelineStaysBounded(t *testing.T) {
	var req []byte
	for range 100000 {
		req = append(req, encode("GET", "big")...)
	}
	for _, tier := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		t.Run(tier.String(), func(t *testing.T) {
			grew := hostileStalledHeapGrowth(t, tier, largeValue(1<<20, 1), req, 2*time.Second, 16<<20)
			t.Logf("100,000 pipelined GETs of 1 MiB never read: heap +%.1f MiB", float64(grew)/(1<<20))
			if grew > 16<<20 {
				t.Errorf("100,000 pipelined GETs of a 1 MiB value that the client never reads grew the server's heap by %d MiB", grew>>20)
			}
		})
	}
}
