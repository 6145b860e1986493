package heap

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/cache"
)

// checkHandles: the policy holds exactly the store's choosable entries (its
// Len and Weight agree with them), no handle is shared by two entries, and
// victims chosen and deleted one by one empty the policy with the store.
func checkHandles(t *testing.T, s *Store) {
	t.Helper()
	p := s.policy
	p.mu.Lock()
	p.drainLocked()
	n, w := p.p.Len(), p.p.Weight()
	p.mu.Unlock()
	seen := map[*cache.Handle[string]]string{}
	choosable, weight := 0, int64(0)
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		sh.values.each(func(e slot) bool {
			if other, dup := seen[e.h]; dup {
				t.Errorf("handle %p held by %q and %q", e.h, other, e.key())
			}
			seen[e.h] = e.key()
			if !p.isExempt(e) {
				choosable++
				weight += e.size()
				if !e.h.Resident() || e.h.Key() != e.key() {
					t.Errorf("%q: handle resident %v, key %q", e.key(), e.h.Resident(), e.h.Key())
				}
			} else if e.h.Resident() {
				t.Errorf("exempt %q is resident", e.key())
			}
			return true
		})
		for _, h := range sh.handles.free {
			if _, live := seen[h]; live {
				t.Errorf("handle %p of live %q is in the free list", h, seen[h])
			}
			if h.Resident() || h.Key() != "" {
				t.Errorf("free handle %p resident %v key %q", h, h.Resident(), h.Key())
			}
		}
		sh.mu.RUnlock()
	}
	if n != choosable || w != weight {
		t.Fatalf("policy holds %d handles weighing %d; the store %d choosable weighing %d", n, w, choosable, weight)
	}
	for i := 0; ; i++ {
		k, ok := s.Victim(nil)
		if !ok {
			break
		}
		if i > 1<<20 {
			t.Fatal("victims never end")
		}
		if _, err := s.Delete(k); err != nil {
			t.Fatalf("victim %q: Delete: %v", k, err)
		}
	}
	p.mu.Lock()
	n = p.p.Len()
	p.mu.Unlock()
	if n != 0 {
		t.Fatalf("no victim, but the policy holds %d", n)
	}
}

// TestHandleReuseStress: Put (pinning and unpinning), Delete,
// Touch, Victim+Delete racing, for each policy kind; then the invariants.
// Run with -race.
func TestHandleReuseStress(t *testing.T) {
	for _, kind := range []cache.Kind{cache.Adaptive, cache.LRU, cache.LFU, cache.FIFO, cache.S3FIFO} {
		t.Run(kind.String(), func(t *testing.T) {
			s, err := NewWithPolicy(PolicyOptions{Kind: kind, Capacity: 1 << 16,
				Exempt: func(m []byte) bool { return string(m) == "pin" }})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var stop atomic.Bool
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(w), 3))
					for !stop.Load() {
						k := fmt.Sprint("k", r.IntN(300))
						switch op := r.IntN(10); {
						case op < 4:
							var meta []byte
							if r.IntN(4) == 0 {
								meta = []byte("pin")
							}
							s.Put(k, make([]byte, r.IntN(200)), meta)
						case op < 6:
							s.Delete(k)
						case op < 9:
							s.Touch(k)
						default:
							if v, ok := s.Victim(nil); ok {
								s.Delete(v)
							}
						}
					}
				}()
			}
			time.Sleep(400 * time.Millisecond)
			stop.Store(true)
			wg.Wait()
			checkHandles(t, s)
		})
	}
}

// TestDeleteRacingClose: Deletes and Puts racing Close never leave a
// handle in two places, and nothing panics.
func TestDeleteRacingClose(t *testing.T) {
	for range 50 {
		s, err := NewWithPolicy(PolicyOptions{Capacity: 1 << 16})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 200 {
			s.Put(fmt.Sprint("k", i), []byte("v"), nil)
		}
		var wg sync.WaitGroup
		for w := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 200 {
					k := fmt.Sprint("k", (i*7+w)%200)
					s.Touch(k)
					s.Delete(k)
					s.Put(k, []byte("w"), nil)
					s.Victim(nil)
				}
			}()
		}
		s.Close()
		wg.Wait()
	}
}

// TestChurnedStoreGivesMemoryBack: a store that held 256 Ki keys and kept
// one in 32 holds at most 3 times the Go heap of a store made with just
// those keys (the rest is its tables, which halve only below an eighth
// full): its pools of spare handles shrink with it (a hostile review
// measured 10 times with handles allocated in chunks, 3.6 times with pools
// sized at the peak).
func TestChurnedStoreGivesMemoryBack(t *testing.T) {
	heapNow := func() int64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	const n = 1 << 18
	var keep []int
	r := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		if r.IntN(32) == 0 {
			keep = append(keep, i)
		}
	}
	h0 := heapNow()
	s, err := NewWithPolicy(PolicyOptions{Kind: cache.LRU, Capacity: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range n {
		s.Put(fmt.Sprint("key", i), nil, nil)
	}
	j := 0
	for i := range n {
		if j < len(keep) && keep[j] == i {
			j++
			continue
		}
		s.Delete(fmt.Sprint("key", i))
	}
	h1 := heapNow()
	s2, _ := NewWithPolicy(PolicyOptions{Kind: cache.LRU, Capacity: 1 << 40})
	defer s2.Close()
	for _, i := range keep {
		s2.Put(fmt.Sprint("key", i), nil, nil)
	}
	h2 := heapNow()
	t.Logf("%d keys kept of %d: churned store %d KiB, fresh store with the same keys %d KiB (Used says %d KiB)",
		len(keep), n, (h1-h0)/1024, (h2-h1)/1024, s.Used()/1024)
	if h1-h0 > 3*(h2-h1) {
		t.Errorf("the churned store holds %d KiB, more than 3 times a fresh one's %d KiB", (h1-h0)/1024, (h2-h1)/1024)
	}
	runtime.KeepAlive(s)
	runtime.KeepAlive(s2)
}

// TestVictimDataCollected: a 1 MiB entry chosen as victim and
// deleted is garbage, for every policy kind.
func TestVictimDataCollected(t *testing.T) {
	for _, kind := range []cache.Kind{cache.Adaptive, cache.LRU, cache.LFU, cache.FIFO, cache.S3FIFO} {
		t.Run(kind.String(), func(t *testing.T) {
			s, err := NewWithPolicy(PolicyOptions{Kind: kind, Capacity: 1 << 30})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.Put("k", make([]byte, 1<<20), nil)
			collected := watchData(t, s, "k")
			if v, ok := s.Victim(nil); !ok || v != "k" {
				t.Fatalf("Victim = %q %v", v, ok)
			}
			s.Delete("k")
			if waitCollected(collected) {
				return
			}
			t.Fatal("the victim's data is still reachable after its Delete")
		})
	}
}
