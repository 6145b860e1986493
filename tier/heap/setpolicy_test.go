package heap_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/cache"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/heap"
)

// TestSetPolicyKeepsRecency switches a store from Adaptive to LRU: the new
// policy's victims come in the order of the entries' last reads, and pinned
// entries stay out of it.
func TestSetPolicyKeepsRecency(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	s := newPolicyStore(t, heap.PolicyOptions{Kind: cache.Adaptive, Capacity: 1 << 20, Exempt: isPinned, Now: clock})
	defer s.Close()
	var order []string // the unpinned keys, least recently read first
	for i := range 50 {
		key := fmt.Sprint("k", i)
		var meta []byte
		if i%10 == 7 {
			meta = pinnedMeta
		}
		now = now.Add(time.Second)
		if _, err := s.Put(key, []byte("v"), meta); err != nil {
			t.Fatal(err)
		}
		if meta == nil {
			order = append(order, key)
		}
	}
	for i := 0; i < 50; i += 3 { // reads move keys to the end
		key := fmt.Sprint("k", i)
		now = now.Add(time.Second)
		s.Touch(key)
		if j := slices.Index(order, key); j >= 0 {
			order = append(slices.Delete(order, j, j+1), key)
		}
	}
	if err := s.SetPolicy(cache.LRU, 1<<20); err != nil {
		t.Fatal(err)
	}
	for _, want := range order {
		got, ok := s.Victim(nil)
		if !ok || got != want {
			t.Fatalf("victim %q (%v), want %q", got, ok, want)
		}
		s.Delete(got)
	}
	if v, ok := s.Victim(nil); ok {
		t.Fatalf("victim %q: only pinned entries are left", v)
	}
}

func TestSetPolicyErrors(t *testing.T) {
	if err := heap.New().SetPolicy(cache.LRU, 1); !errors.Is(err, heap.ErrNoPolicy) {
		t.Fatalf("SetPolicy of a CLOCK store = %v, want ErrNoPolicy", err)
	}
	s := newPolicyStore(t, heap.PolicyOptions{Capacity: 1 << 20})
	if err := s.SetPolicy(cache.Kind(99), 1); !errors.Is(err, cache.ErrPolicy) {
		t.Fatalf("SetPolicy of an unknown kind = %v", err)
	}
	if err := s.SetPolicy(cache.LRU, 0); !errors.Is(err, cache.ErrCapacity) {
		t.Fatalf("SetPolicy with capacity 0 = %v", err)
	}
	s.Close()
	if err := s.SetPolicy(cache.LRU, 1); !errors.Is(err, tier.ErrClosed) {
		t.Fatalf("SetPolicy after Close = %v", err)
	}
}

// TestSetPolicyUnderLoad switches the policy over and over while writers,
// readers and deleters run (with -race): afterwards every unpinned entry
// is a victim exactly once, no pinned one ever.
func TestSetPolicyUnderLoad(t *testing.T) {
	s := newPolicyStore(t, heap.PolicyOptions{Capacity: 1 << 20, Exempt: isPinned})
	defer s.Close()
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				key := fmt.Sprint("k", (i*7+w)%300)
				switch i % 6 {
				case 0, 1:
					var meta []byte
					if i%12 == 1 {
						meta = pinnedMeta
					}
					s.Put(key, make([]byte, i%500), meta)
				case 2:
					s.Delete(key)
				default:
					s.Touch(key)
				}
			}
		})
	}
	kinds := []cache.Kind{cache.LRU, cache.LFU, cache.FIFO, cache.S3FIFO, cache.Adaptive}
	for i := range 60 {
		if err := s.SetPolicy(kinds[i%len(kinds)], 1<<20); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	unpinned := map[string]bool{}
	s.Scan(func(key string, meta []byte, _ int64) error {
		if !isPinned(meta) {
			unpinned[key] = true
		}
		return nil
	})
	for len(unpinned) > 0 {
		v, ok := s.Victim(nil)
		if !ok {
			t.Fatalf("no victim while %d unpinned entries are left", len(unpinned))
		}
		if !unpinned[v] {
			t.Fatalf("victim %q is pinned or was a victim before", v)
		}
		delete(unpinned, v)
		s.Delete(v)
	}
	if v, ok := s.Victim(nil); ok {
		t.Fatalf("victim %q: only pinned entries are left", v)
	}
}

// TestLastUse: a policy store gives an entry's last store or read time; a
// CLOCK store, or a key it does not hold, none.
func TestLastUse(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := newPolicyStore(t, heap.PolicyOptions{Capacity: 1 << 20, Now: func() time.Time { return now }})
	defer s.Close()
	s.Put("k", []byte("v"), nil)
	if at, ok := s.LastUse("k"); !ok || !at.Equal(now) {
		t.Fatalf("LastUse after Put = %v, %v; want %v", at, ok, now)
	}
	now = now.Add(time.Minute)
	s.Touch("k")
	if at, ok := s.LastUse("k"); !ok || !at.Equal(now) {
		t.Fatalf("LastUse after Touch = %v, %v; want %v", at, ok, now)
	}
	if _, ok := s.LastUse("absent"); ok {
		t.Fatal("LastUse of an absent key")
	}
	c := heap.New()
	c.Put("k", []byte("v"), nil)
	if _, ok := c.LastUse("k"); ok {
		t.Fatal("LastUse on a CLOCK store")
	}
}
