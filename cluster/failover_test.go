package cluster_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/cluster"
)

// attempt is one Store of a failover test's writers: which bytes of the
// shared source it stored.
type attempt struct{ off, size int }

// keyLog is what the writers know of one key: its last acknowledged Store,
// and the failed Stores since that said the new value may be visible.
type keyLog struct {
	acked    *attempt
	maybe    []attempt
	failures int
}

// TestFailover SIGKILLs masters, one after another, while writers store
// values of 1 KB to 20 MB with ReplicationFactor 2: every Store that returned
// nil must read back byte for byte afterwards. It logs how long Stores
// failed after each kill, against the cluster's own failover time.
func TestFailover(t *testing.T) {
	defer healthy(t)
	c := open(t, cluster.Options{ReplicationFactor: 2, ChunkSize: 1 << 20,
		WaitTimeout: 500 * time.Millisecond, RetryTimeout: 2 * time.Second})
	ctx := context.Background()
	src := pattern(24<<20, 42)
	sizes := []int{1 << 10, 70 << 10, 1 << 20, 3<<20 + 5, 20 << 20}

	var (
		mu       sync.Mutex // protects logs and fails
		logs     = make(map[string]*keyLog)
		fails    []time.Time
		stop     atomic.Bool
		wg       sync.WaitGroup
		stores   atomic.Int64
		errKinds sync.Map
	)
	for w := range 3 {
		wg.Go(func() {
			for n := 0; !stop.Load(); n++ {
				key := fmt.Sprintf("failover/%d/%d", w, n%6)
				size := sizes[(n+w)%len(sizes)]
				a := attempt{off: (w*7919 + n*104729) % (len(src) - size), size: size}
				err := c.Store(ctx, key, src[a.off:a.off+a.size])
				mu.Lock()
				l := logs[key]
				if l == nil {
					l = &keyLog{}
					logs[key] = l
				}
				if err == nil {
					l.acked, l.maybe = &a, nil
					stores.Add(1)
				} else {
					l.failures++
					fails = append(fails, time.Now())
					if strings.Contains(err.Error(), "may be visible") {
						l.maybe = append(l.maybe, a)
					}
					kind := err.Error()
					for _, e := range []error{cluster.ErrNotReplicated, cluster.ErrNoSpace, cluster.ErrCorrupt} {
						if errors.Is(err, e) {
							kind = e.Error()
						}
					}
					errKinds.Store(kind, true)
				}
				mu.Unlock()
			}
		})
	}

	for round := range 2 {
		time.Sleep(time.Second)
		masters, err := rc.Masters()
		if err != nil || len(masters) != 3 {
			t.Fatalf("masters %v, %v", masters, err)
		}
		victim := masters[round%len(masters)]
		killed := time.Now()
		if err := rc.Kill(victim); err != nil {
			t.Fatal(err)
		}
		failover := waitFailover(t)
		failoverTook := time.Since(killed)
		if err := rc.Restart(victim); err != nil {
			t.Fatal(err)
		}
		hctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		err = rc.WaitHealthy(hctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond) // Stores resume
		mu.Lock()
		var first, last time.Time
		for _, f := range fails {
			if f.After(killed) {
				if first.IsZero() {
					first = f
				}
				last = f
			}
		}
		mu.Unlock()
		window := time.Duration(0)
		if !first.IsZero() {
			window = last.Sub(killed)
		}
		t.Logf("round %d: killed node %d; cluster failover %v (state ok again: %v); Stores failed until %v after the kill; rejoined and resynced %v after the kill",
			round, victim, failoverTook.Round(time.Millisecond), failover, window.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))
	}
	stop.Store(true)
	wg.Wait()

	lost, checked := 0, 0
	for key, l := range logs {
		if l.acked == nil {
			continue
		}
		checked++
		got, err := c.Retrieve(ctx, key)
		ok := err == nil && bytes.Equal(got, src[l.acked.off:l.acked.off+l.acked.size])
		for _, m := range l.maybe {
			ok = ok || err == nil && bytes.Equal(got, src[m.off:m.off+m.size])
		}
		if !ok {
			lost++
			t.Errorf("%s: acknowledged value lost: %d bytes, %v", key, len(got), err)
		}
	}
	var kinds []string
	errKinds.Range(func(k, _ any) bool { kinds = append(kinds, k.(string)); return true })
	t.Logf("%d Stores acknowledged, %d failed (%s); %d keys checked, %d acknowledged values lost",
		stores.Load(), len(fails), strings.Join(kinds, "; "), checked, lost)
}

// waitFailover waits until the running nodes all say cluster_state:ok with
// three masters, and returns how long it waited.
func waitFailover(t *testing.T) time.Duration {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if m, err := rc.Masters(); err == nil && len(m) == 3 {
			if err := rc.WaitState(ctx); err != nil {
				t.Fatal(err)
			}
			return time.Since(start)
		}
		select {
		case <-ctx.Done():
			t.Fatal("no failover in 30 s")
		case <-time.After(50 * time.Millisecond):
		}
	}
}
