package tiermem_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/heap"
	"github.com/tiermem/tiermem/tier/offheap"
)

// viewGuard wraps a real memory store to catch a store called inside
// another store's view: it counts the views open on every guarded store and
// fails a Put or Delete that comes while one is open. Each memory store
// holds a shard lock while a view runs, so such a nested call deadlocks
// when another goroutine nests the other way (seen once in CI: a Move from
// hot to warm and one from warm to hot, of keys that shared a shard in
// both stores, each waiting for the other's lock).
type viewGuard struct {
	tier.Store
	open *atomic.Int32
	t    *testing.T
}

func (g viewGuard) ViewMeta(key string, fn func(value, meta []byte) error) error {
	return g.Store.ViewMeta(key, func(value, meta []byte) error {
		g.open.Add(1)
		defer g.open.Add(-1)
		return fn(value, meta)
	})
}

func (g viewGuard) Put(key string, value, meta []byte) (int64, error) {
	if g.open.Load() > 0 {
		g.t.Errorf("Put(%q) inside another store's view", key)
	}
	return g.Store.Put(key, value, meta)
}

func (g viewGuard) Delete(key string) (int64, error) {
	if g.open.Load() > 0 {
		g.t.Errorf("Delete(%q) inside another store's view", key)
	}
	return g.Store.Delete(key)
}

// Moves and copies between hot and warm, both ways, of small and large
// values, never call one memory store inside the other's view.
func TestMovesBetweenMemoryTiersDoNotNestStores(t *testing.T) {
	var views atomic.Int32
	warm, err := offheap.New(&offheap.Options{Capacity: 64 << 20})
	must(t, err)
	m := open(t, &tiermem.Options{MigrateInterval: -1, Glacier: tiermem.GlacierOptions{Disabled: true},
		Hot:  tiermem.TierOptions{Size: 32 << 20, Store: viewGuard{heap.New(), &views, t}},
		Warm: tiermem.TierOptions{Size: 32 << 20, Store: viewGuard{warm, &views, t}},
		Cold: tiermem.TierOptions{Size: 64 << 20}})
	for i, size := range []int{10, 100 << 10} {
		key := fmt.Sprint("k", i)
		must(t, m.Store(key, make([]byte, size), tiermem.InTier(tiermem.Hot)))
		for _, to := range []tiermem.Tier{tiermem.Warm, tiermem.Hot, tiermem.Warm} {
			must(t, m.Move(key, to))
			must(t, m.Copy(key, tiermem.Hot+tiermem.Warm-to))
		}
		if got, err := m.Retrieve(key); err != nil || len(got) != size {
			t.Fatalf("%s after the moves: %d bytes, %v", key, len(got), err)
		}
	}
}
