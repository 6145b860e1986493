package tiermem_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
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

// warmGuard is a viewGuard over a real warm store that also opens large
// values apart from their shard, as the built-in warm tier does: a Put
// inside such a LargeValue's View is allowed (its lock is its own).
type warmGuard struct {
	viewGuard
	s *offheap.Store
}

func (g warmGuard) OpenLarge(key string) (*offheap.LargeValue, bool, error) {
	return g.s.OpenLarge(key)
}

// Moves and copies between hot and warm, both ways, of small and large
// values, never call one memory store inside the other's view.
func TestMovesBetweenMemoryTiersDoNotNestStores(t *testing.T) {
	var views atomic.Int32
	warm, err := offheap.New(&offheap.Options{Capacity: 64 << 20})
	must(t, err)
	m := open(t, &tiermem.Options{MigrateInterval: -1, Glacier: tiermem.GlacierOptions{Disabled: true},
		Hot:  tiermem.TierOptions{Size: 32 << 20, Store: viewGuard{heap.New(), &views, t}},
		Warm: tiermem.TierOptions{Size: 32 << 20, Store: warmGuard{viewGuard{warm, &views, t}, warm}},
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

// A large warm value moved to hot is put into hot from where warm holds it:
// one copy, the hot tier's own (taking it out of warm first, to keep off
// warm's shard lock, copied it twice).
func TestMovingALargeWarmValueToHotCopiesItOnce(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1, Glacier: tiermem.GlacierOptions{Disabled: true},
		Hot: tiermem.TierOptions{Size: 64 << 20}, Warm: tiermem.TierOptions{Size: 64 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}})
	const size = 8 << 20
	value := make([]byte, size)
	rand.NewChaCha8([32]byte{3}).Read(value)
	must(t, m.Store("big", value, tiermem.InTier(tiermem.Warm)))
	var err error
	n := allocatedBy(func() { err = m.Move("big", tiermem.Hot) })
	must(t, err)
	if n > size+size/2 {
		t.Errorf("moving %d MiB from warm to hot allocated %.1f MiB; want the hot tier's one copy", size>>20, float64(n)/(1<<20))
	}
	if got, err := m.Retrieve("big"); err != nil || !bytes.Equal(got, value) {
		t.Fatalf("after the move: %d bytes, %v", len(got), err)
	}
}
