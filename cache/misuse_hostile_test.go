package cache

import (
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// Stats.Hits is documented as "Gets that found a live entry", so that
// Hits+Misses is the number of Gets and HitRatio is the Gets' hit ratio. A
// Set that rewrites a pointer-free value of the same weight in place must not
// count as a hit.
func TestHostileSetIsNotAHit(t *testing.T) {
	c, err := New(&Options[int, int]{SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 100 {
		if err := c.Set(1, i); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := c.Get(2); ok {
		t.Fatal("Get(2) hit on an absent key")
	}
	s := c.Stats()
	if s.Hits+s.Misses != 1 || s.Hits != 0 {
		t.Fatalf("1 Get (a miss) after 100 Sets of one key: Stats Hits %d Misses %d, want 0 and 1 (HitRatio %.2f)",
			s.Hits, s.Misses, s.HitRatio())
	}
}

// A Clock that steps back past the moment New read it (a wall clock set back,
// a test clock) must not make SetWithTTL's TTL void: the guard against a TTL
// past the clock's end must not itself overflow when the cache clock reads
// negative, and the entry expires.
func TestHostileTTLWithClockBeforeEpoch(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	c, err := New(&Options[string, int]{SweepInterval: -1, Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	now = now.Add(-time.Hour) // the clock is set back an hour
	if err := c.SetWithTTL("k", 7, time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, ok := c.Get("k"); !ok || v != 7 {
		t.Fatalf("Get right after SetWithTTL(1m) = %d, %v; want 7, true", v, ok)
	}
	now = now.Add(2 * time.Minute)
	if v, ok := c.Get("k"); ok {
		t.Fatalf("Get 2 minutes after SetWithTTL(1m) = %d, true; want a miss (expired)", v)
	}
}

// With SweepInterval < 0 (no maintenance goroutine, no sweep) a long-lived
// cache that rewrites the same few keys with a TTL keeps its expiry heap
// bounded by its live entries: the Sets trim it.
func TestHostileExpiryHeapBoundedWithoutSweeper(t *testing.T) {
	c, err := New(&Options[int, string]{MaxWeight: 4, SweepInterval: -1, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 20_000 {
		if err := c.Set(i%8, "v"); err != nil {
			t.Fatal(err)
		}
	}
	c.mu.Lock()
	n, live := c.expiries.Len(), c.policy.size()
	c.mu.Unlock()
	if n > 2*live+1024 {
		t.Fatalf("expiry heap holds %d items for %d live entries after 20k Sets of 8 keys", n, live)
	}
}

// HandlePolicy promises that "calls on a handle that is not resident in the
// policy are ignored". A handle resident in another policy (a tier's entry
// moved to the next tier, reported late to the first) is not resident in
// this one: Add, Remove, Access and Update leave it and both policies as
// they were.
func TestHostileHandleOfAnotherPolicyIgnored(t *testing.T) {
	for _, kind := range []Kind{Adaptive, LRU, LFU, FIFO, S3FIFO} {
		t.Run(kind.String(), func(t *testing.T) {
			a, err := NewHandlePolicy[string](kind, 100)
			if err != nil {
				t.Fatal(err)
			}
			b, err := NewHandlePolicy[string](kind, 100)
			if err != nil {
				t.Fatal(err)
			}
			var h1, h2, h3 Handle[string]
			a.Add(&h1, "x", 3)
			a.Add(&h2, "y", 4)
			b.Add(&h3, "z", 5)
			b.Access(&h1)
			b.Update(&h1, 50)
			b.Remove(&h1)
			if b.Len() != 1 || b.Weight() != 5 {
				t.Errorf("b, after calls on a handle resident in a: Len %d Weight %d, want 1 and 5", b.Len(), b.Weight())
			}
			if a.Len() != 2 || a.Weight() != 7 || !h1.Resident() || h1.Key() != "x" {
				t.Errorf("a, after calls on its handle made to b: Len %d Weight %d, h1 resident %v key %q; want 2, 7, true, \"x\"",
					a.Len(), a.Weight(), h1.Resident(), h1.Key())
			}
			seen := map[string]bool{}
			for a.Len() > 0 {
				v, ok := a.Victim()
				if !ok || seen[v.Key()] {
					t.Fatalf("a's victims: ok %v, key %q again after %v", ok, v.Key(), seen)
				}
				seen[v.Key()] = true
				a.Remove(v)
			}
			if !seen["x"] || !seen["y"] || a.Weight() != 0 {
				t.Errorf("a gave up victims %v, weight left %d; want x and y, 0", seen, a.Weight())
			}
		})
	}
}

// Rekey exists "so that the policy does not keep the old memory" of a key
// over a buffer the owner reallocates: under every policy, LFU's two maps of
// its own (byKey's and the keyed LFU's) included, the old buffer is
// collected after Rekey.
func TestHostileRekeyReleasesOldKeyMemory(t *testing.T) {
	for _, kind := range []Kind{Adaptive, LRU, LFU, FIFO, S3FIFO} {
		t.Run(kind.String(), func(t *testing.T) {
			p, err := NewHandlePolicy[string](kind, 100)
			if err != nil {
				t.Fatal(err)
			}
			var released atomic.Bool
			hs := make([]Handle[string], 3)
			func() {
				buf := make([]byte, 4096)
				copy(buf, "key-1")
				runtime.AddCleanup(&buf[0], func(*atomic.Bool) { released.Store(true) }, &released)
				old := unsafe.String(&buf[0], 5)
				p.Add(&hs[0], old, 1)
				p.Add(&hs[1], "key-2", 1)
				p.Access(&hs[0])
				p.Rekey(&hs[0], strings.Clone(old)) // the owner reallocates the key
			}()
			p.Add(&hs[2], "key-3", 1)
			for i := 0; i < 50 && !released.Load(); i++ {
				runtime.GC()
				time.Sleep(time.Millisecond)
			}
			if !released.Load() {
				t.Errorf("the key's old buffer is still reachable after Rekey")
			}
			runtime.KeepAlive(p)
			runtime.KeepAlive(hs)
		})
	}
}

// Delete hands the value back to the garbage collector: a cache of large
// blobs keeps no deleted one alive, though the hit buffer pointed at its
// entry since a Get found it (Delete drains the buffer).
func TestHostileDeletedValueNotRetained(t *testing.T) {
	c, err := New(&Options[string, []byte]{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var released atomic.Bool
	func() {
		blob := make([]byte, 8<<20)
		runtime.AddCleanup(&blob[0], func(*atomic.Bool) { released.Store(true) }, &released)
		if err := c.Set("blob", blob); err != nil {
			t.Fatal(err)
		}
		if _, ok := c.Get("blob"); !ok {
			t.Fatal("Get missed")
		}
		if !c.Delete("blob") {
			t.Fatal("Delete found nothing")
		}
	}()
	for i := 0; i < 50 && !released.Load(); i++ {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if !released.Load() {
		t.Errorf("an 8 MiB value is still reachable from the cache after Delete")
	}
	runtime.KeepAlive(c)
}

// A hand clock that is not set yet when New runs (the zero time.Time) and is
// then set to a real date must not void TTLs. The cache clock's epoch was
// once New's time, so that the clock read more than 292 years past it: Sub
// saturated at MaxInt64 and now()'s +1 wrapped to MinInt64, and no TTL ever
// ran out.
func TestHostileTTLWithClockFarPastEpoch(t *testing.T) {
	var now time.Time // set below, after New
	c, err := New(&Options[string, int]{SweepInterval: -1, Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	now = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	if err := c.SetWithTTL("k", 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Minute)
	if v, ok := c.Get("k"); ok {
		t.Fatalf("SetWithTTL(k, 1, 1m), clock +2m: Get = %v, true; want a miss (cache clock now() = %d)", v, c.now())
	}
}

// With a maintenance goroutine too, the expiry heap stays bounded by the live
// entries between sweeps (SweepInterval is the user's: here an hour). Sets
// once trimmed it only without a sweeper, so that every TTL Set of a hot key
// added an item until the next sweep.
func TestHostileExpiryHeapBoundedBetweenSweeps(t *testing.T) {
	c, err := New(&Options[int, string]{MaxWeight: 4, SweepInterval: time.Hour, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 20_000 {
		if err := c.Set(i%8, "v"); err != nil {
			t.Fatal(err)
		}
	}
	c.mu.Lock()
	n, live := c.expiries.Len(), c.policy.size()
	c.mu.Unlock()
	if n > 2*live+1024 {
		t.Fatalf("expiry heap holds %d items for %d live entries after 20k Sets of 8 keys", n, live)
	}
}
