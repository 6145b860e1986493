package cluster

import (
	"context"
	"sync"
)

// plan splits the chunks named by keys, of chunkSize bytes (the manifest's,
// which a reader's Options need not share), into batches for pipelines: each
// batch holds chunks whose master was the same when planned, at most
// batchBytes of them (or one chunk, when a chunk is larger), and batches of different masters alternate, so that workers taking
// them in order keep every master busy. owners[b] is the address of batch
// b's master.
func (c *Cluster) plan(ctx context.Context, keys []string, chunkSize int) (batches [][]int, owners []string, err error) {
	byNode := make(map[string][]int)
	var order []string
	for i, k := range keys {
		node, err := c.rc.MasterForKey(ctx, k)
		if err != nil {
			return nil, nil, c.classify("finding the chunks' masters", err)
		}
		addr := node.Options().Addr
		if _, ok := byNode[addr]; !ok {
			order = append(order, addr)
		}
		byNode[addr] = append(byNode[addr], i)
	}
	per := max(1, batchBytes/chunkSize)
	for more := true; more; {
		more = false
		for _, addr := range order {
			idx := byNode[addr]
			if len(idx) == 0 {
				continue
			}
			n := min(per, len(idx))
			batches = append(batches, idx[:n:n])
			owners = append(owners, addr)
			byNode[addr] = idx[n:]
			more = more || len(idx) > n
		}
	}
	return batches, owners, nil
}

// run calls do for every batch on Streams workers per master, and returns
// the first error; the first error cancels the context the others run under.
func (c *Cluster) run(ctx context.Context, batches [][]int, masters int, do func(ctx context.Context, batch []int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan []int)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	workers := min(len(batches), max(1, masters)*c.opt.Streams)
	for range workers {
		wg.Go(func() {
			for b := range next {
				if err := do(ctx, b); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
				}
			}
		})
	}
feed:
	for _, b := range batches {
		select {
		case next <- b:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return firstErr
}
