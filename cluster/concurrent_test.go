package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/cluster"
)

// TestConcurrentReplace has writers replace one key with values each made
// of a single byte while readers read it: every read is one whole value of
// one Store (never a mix of two generations, never a wrong byte), or a
// conflict after RetryTimeout; never ErrCorrupt.
func TestConcurrentReplace(t *testing.T) {
	c := open(t, cluster.Options{ChunkSize: 64 << 10, RetryTimeout: 5 * time.Second})
	ctx := context.Background()
	const size = 1<<20 + 3 // 17 chunks
	fill := func(b byte) []byte {
		v := make([]byte, size)
		for i := range v {
			v[i] = b
		}
		return v
	}
	if err := c.Store(ctx, "contended", fill(1)); err != nil {
		t.Fatal(err)
	}
	var (
		stop            atomic.Bool
		wg              sync.WaitGroup
		reads, replaced atomic.Int64
		errs            = make(chan error, 8)
	)
	for w := range 2 {
		wg.Go(func() {
			for n := 0; !stop.Load(); n++ {
				if err := c.Store(ctx, "contended", fill(byte(2+w*100+n%100))); err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
				replaced.Add(1)
			}
		})
	}
	for r := range 3 {
		wg.Go(func() {
			for !stop.Load() {
				v, err := c.Retrieve(ctx, "contended")
				if errors.Is(err, cluster.ErrConflict) {
					continue
				}
				if err != nil {
					errs <- fmt.Errorf("reader %d: %w", r, err)
					return
				}
				if len(v) != size {
					errs <- fmt.Errorf("reader %d: %d bytes", r, len(v))
					return
				}
				for i := range v {
					if v[i] != v[0] {
						errs <- fmt.Errorf("reader %d: byte %d is %d, byte 0 is %d: two generations mixed", r, i, v[i], v[0])
						return
					}
				}
				reads.Add(1)
			}
		})
	}
	time.Sleep(3 * time.Second)
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d Stores, %d whole reads", replaced.Load(), reads.Load())
	if reads.Load() == 0 {
		t.Fatal("no read completed")
	}
}
