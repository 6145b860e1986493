package cache_test

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/cache"
)

var hostileKinds = []cache.Kind{cache.Adaptive, cache.LRU, cache.LFU, cache.FIFO, cache.S3FIFO}

func hostileSettle(t *testing.T, base int) {
	t.Helper()
	var n int
	for i := 0; i < 200; i++ {
		runtime.GC()
		n = runtime.NumGoroutine()
		if n <= base {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	buf := make([]byte, 1<<16)
	buf = buf[:runtime.Stack(buf, true)]
	t.Fatalf("goroutines: %d before, %d after\n%s", base, n, buf)
}

func TestHostileBadOptions(t *testing.T) {
	cases := []struct {
		name string
		opts cache.Options[string, int]
		want error
	}{
		{"negative weight budget", cache.Options[string, int]{MaxWeight: -1}, cache.ErrCapacity},
		{"min int budget", cache.Options[string, int]{MaxWeight: math.MinInt64}, cache.ErrCapacity},
		{"unknown policy", cache.Options[string, int]{Policy: cache.Kind(42)}, cache.ErrPolicy},
		{"negative policy", cache.Options[string, int]{Policy: cache.Kind(-1)}, cache.ErrPolicy},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := cache.New(&tc.opts)
			if !errors.Is(err, tc.want) {
				if c != nil {
					c.Close()
				}
				t.Fatalf("New(%+v) = %v, want %v", tc.opts, err, tc.want)
			}
		})
	}
	for _, s := range []string{"", "LRU", "lru ", "arc", "\x00"} {
		if _, err := cache.ParseKind(s); !errors.Is(err, cache.ErrPolicy) {
			t.Errorf("ParseKind(%q) = %v, want ErrPolicy", s, err)
		}
	}
	for _, capa := range []int64{0, -1, math.MinInt64} {
		if _, err := cache.NewPolicy[string](cache.LRU, capa); !errors.Is(err, cache.ErrCapacity) {
			t.Errorf("NewPolicy(cap %d) = %v", capa, err)
		}
		if _, err := cache.NewHandlePolicy[string](cache.Adaptive, capa); !errors.Is(err, cache.ErrCapacity) {
			t.Errorf("NewHandlePolicy(cap %d) = %v", capa, err)
		}
	}
	if _, err := cache.NewPolicy[string](cache.Kind(9), 10); !errors.Is(err, cache.ErrPolicy) {
		t.Errorf("NewPolicy(Kind 9) = %v", err)
	}
}

// A huge budget must not let the sum of weights overflow past it.
func TestHostileHugeWeightsNoOverflow(t *testing.T) {
	for _, kind := range hostileKinds {
		t.Run(kind.String(), func(t *testing.T) {
			c, err := cache.New(&cache.Options[string, int]{
				MaxWeight:     math.MaxInt64,
				Policy:        kind,
				Weigher:       func(string, int) int64 { return math.MaxInt64/2 + 1 },
				SweepInterval: -1,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for i := range 3 {
				if err := c.Set(strconv.Itoa(i), i); err != nil {
					t.Fatalf("Set %d: %v", i, err)
				}
				st := c.Stats()
				if w := c.Weight(); w < 0 || st.Weight < 0 || st.Len > 1 {
					t.Fatalf("after %d Sets: Weight()=%d Stats.Weight=%d Len=%d (each entry weighs more than half the budget)",
						i+1, w, st.Weight, st.Len)
				}
			}
		})
	}
}

// A TTL of the largest duration means "practically forever", not "already expired".
func TestHostileHugeTTLNotExpired(t *testing.T) {
	for _, ttl := range []time.Duration{math.MaxInt64, math.MaxInt64 / 2, 250 * 365 * 24 * time.Hour} {
		t.Run(ttl.String(), func(t *testing.T) {
			c, err := cache.New(&cache.Options[string, int]{SweepInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// let the cache clock move past its epoch a little
			time.Sleep(2 * time.Millisecond)
			if err := c.SetWithTTL("k", 7, ttl); err != nil {
				t.Fatal(err)
			}
			if v, ok := c.Get("k"); !ok || v != 7 {
				t.Fatalf("SetWithTTL(k, 7, %v); Get = %v, %v: want 7, true", ttl, v, ok)
			}
		})
	}
	c, err := cache.New(&cache.Options[string, int]{TTL: math.MaxInt64, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(2 * time.Millisecond)
	c.Set("k", 1)
	if _, ok := c.Get("k"); !ok {
		t.Fatalf("Options.TTL=MaxInt64: entry expired at once")
	}
}

type hostileVal struct {
	id uint64
	_  [3]uint64 // a value larger than a word, rewritten in place
}

// Exactly-once eviction callbacks, the budget and the counters under many
// goroutines setting the same few keys, with both in-place (pointer-free) and
// whole-entry (pointer) values.
func TestHostileConcurrentExactlyOnce(t *testing.T) {
	for _, kind := range hostileKinds {
		for _, ptr := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/ptr=%v", kind, ptr), func(t *testing.T) {
				hostileExactlyOnce(t, kind, ptr)
			})
		}
	}
}

func hostileExactlyOnce(t *testing.T, kind cache.Kind, ptr bool) {
	const maxW = 16
	var mu sync.Mutex
	seen := map[uint64]int{}
	var reasons [5]atomic.Int64
	var nextID atomic.Uint64
	type V = hostileVal
	idOf := func(v any) uint64 {
		switch x := v.(type) {
		case hostileVal:
			return x.id
		case *hostileVal:
			return x.id
		}
		panic("type")
	}
	onEvict := func(k int, v any, r cache.Reason) {
		mu.Lock()
		seen[idOf(v)]++
		mu.Unlock()
		reasons[r].Add(1)
	}
	var sets atomic.Int64
	var overs atomic.Int64
	base := runtime.NumGoroutine()
	run := func(set func(k int) error, get func(k int), del func(k int), st func() cache.Stats, weight func() int64, closeC func()) {
		var wg sync.WaitGroup
		stop := make(chan struct{})
		wg.Add(1)
		go func() { // watcher
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if w := weight(); w > maxW || w < 0 {
					overs.Add(1)
				}
				s := st()
				if s.Len > maxW || s.Weight > maxW {
					overs.Add(1)
				}
				runtime.Gosched()
			}
		}()
		var workers sync.WaitGroup
		for g := range 8 {
			workers.Add(1)
			go func() {
				defer workers.Done()
				for i := range 3000 {
					k := (i*7 + g) % 24
					if i%3 == 0 {
						k %= 3 // hot keys: same key from many goroutines
					}
					switch i % 11 {
					case 5:
						del(k)
					case 7:
						get(k)
					default:
						if err := set(k); err == nil {
							sets.Add(1)
						}
					}
				}
			}()
		}
		workers.Wait()
		close(stop)
		wg.Wait()
		_ = closeC
	}
	check := func(st cache.Stats, remaining int) {
		if n := overs.Load(); n > 0 {
			t.Errorf("budget of %d exceeded %d times", maxW, n)
		}
		if got := int64(st.Admitted + st.Replaced + st.Rejected); got != sets.Load() {
			t.Errorf("Admitted+Replaced+Rejected = %d+%d+%d = %d, successful Sets %d", st.Admitted, st.Replaced, st.Rejected, got, sets.Load())
		}
		if int64(st.Admitted)-int64(st.Evicted+st.Expired+st.Deleted) != int64(remaining) {
			t.Errorf("Admitted-Evicted-Expired-Deleted = %d, Len %d (%+v)", int64(st.Admitted)-int64(st.Evicted+st.Expired+st.Deleted), remaining, st)
		}
		for r, n := range []uint64{st.Evicted, st.Expired, st.Deleted, st.Replaced, st.Rejected} {
			if int64(n) != reasons[r].Load() {
				t.Errorf("Stats %v = %d, OnEvict saw %d", cache.Reason(r), n, reasons[r].Load())
			}
		}
	}
	if !ptr {
		c, err := cache.New(&cache.Options[int, V]{MaxWeight: maxW, Policy: kind, SweepInterval: time.Millisecond,
			OnEvict: func(k int, v V, r cache.Reason) { onEvict(k, v, r) }})
		if err != nil {
			t.Fatal(err)
		}
		run(func(k int) error { return c.Set(k, V{id: nextID.Add(1)}) }, func(k int) { c.Get(k) }, func(k int) { c.Delete(k) },
			c.Stats, c.Weight, c.Close)
		st := c.Stats()
		c.Close()
		check(st, st.Len)
		for k := range 24 {
			c.Delete(k)
		}
	} else {
		c, err := cache.New(&cache.Options[int, *V]{MaxWeight: maxW, Policy: kind, SweepInterval: time.Millisecond,
			OnEvict: func(k int, v *V, r cache.Reason) { onEvict(k, v, r) }})
		if err != nil {
			t.Fatal(err)
		}
		run(func(k int) error { return c.Set(k, &V{id: nextID.Add(1)}) }, func(k int) { c.Get(k) }, func(k int) { c.Delete(k) },
			c.Stats, c.Weight, c.Close)
		st := c.Stats()
		c.Close()
		check(st, st.Len)
		for k := range 24 {
			c.Delete(k)
		}
		if l := c.Len(); l != 0 {
			t.Errorf("Len after deleting all = %d", l)
		}
	}
	// every value set exactly once notified
	mu.Lock()
	defer mu.Unlock()
	var missing, dup int
	for id := uint64(1); id <= nextID.Load(); id++ {
		switch seen[id] {
		case 0:
			missing++
		case 1:
		default:
			dup++
		}
	}
	if missing > 0 || dup > 0 {
		t.Errorf("of %d values set: %d never notified, %d notified more than once", nextID.Load(), missing, dup)
	}
	hostileSettle(t, base)
}

// Close in the middle of many goroutines: no panic, Set returns ErrClosed
// afterwards, the maintenance goroutine is gone.
func TestHostileCloseMidway(t *testing.T) {
	base := runtime.NumGoroutine()
	for round := range 20 {
		c, err := cache.New(&cache.Options[string, []byte]{MaxWeight: 1 << 12, SweepInterval: time.Millisecond, TTL: time.Millisecond,
			Weigher: func(k string, v []byte) int64 { return int64(len(k) + len(v)) }})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var afterClose atomic.Bool
		var bad atomic.Int64
		for g := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 2000 {
					k := strconv.Itoa((i + g*round) % 100)
					closedBefore := afterClose.Load()
					err := c.Set(k, make([]byte, i%64))
					if closedBefore && !errors.Is(err, cache.ErrClosed) {
						bad.Add(1)
					}
					c.Get(k)
					if i%13 == 0 {
						c.Delete(k)
					}
				}
			}()
		}
		time.Sleep(time.Millisecond)
		c.Close()
		afterClose.Store(true)
		c.Close()
		wg.Wait()
		if n := bad.Load(); n > 0 {
			t.Fatalf("%d Sets after Close did not return ErrClosed", n)
		}
		if w := c.Weight(); w > 1<<12 {
			t.Fatalf("weight %d", w)
		}
	}
	hostileSettle(t, base)
}

// ErrTooLarge / ErrWeight from Set, and the old entry is gone.
func TestHostileSetErrors(t *testing.T) {
	var notified []cache.Reason
	c, err := cache.New(&cache.Options[string, string]{MaxWeight: 10, SweepInterval: -1,
		Weigher: func(k, v string) int64 {
			if v == "neg" {
				return -1
			}
			if v == "min" {
				return math.MinInt64
			}
			return int64(len(v))
		},
		OnEvict: func(k, v string, r cache.Reason) { notified = append(notified, r) }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Set("k", "abc")
	if err := c.Set("k", "neg"); !errors.Is(err, cache.ErrWeight) {
		t.Fatalf("negative weight: %v", err)
	}
	if err := c.Set("k", "min"); !errors.Is(err, cache.ErrWeight) {
		t.Fatalf("MinInt64 weight: %v", err)
	}
	if err := c.Set("k", "01234567890"); !errors.Is(err, cache.ErrTooLarge) {
		t.Fatalf("too large: %v", err)
	}
	if _, ok := c.Get("k"); ok {
		t.Fatalf("old entry still there after ErrTooLarge")
	}
	if c.Weight() != 0 || c.Len() != 0 {
		t.Fatalf("weight %d len %d", c.Weight(), c.Len())
	}
	c.Close()
	if err := c.Set("x", "y"); !errors.Is(err, cache.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// Policies used directly: budget loop never loops forever and weights stay consistent.
func TestHostilePolicyOwnerLoop(t *testing.T) {
	for _, kind := range hostileKinds {
		t.Run(kind.String(), func(t *testing.T) {
			const budget = 50
			p, err := cache.NewPolicy[int](kind, budget)
			if err != nil {
				t.Fatal(err)
			}
			weights := map[int]int64{}
			var used int64
			for i := range 20000 {
				k := (i * 31) % 500
				if i%5 == 0 {
					k %= 10
				}
				w := int64(1 + (i % 7))
				if old, ok := weights[k]; ok {
					if i%2 == 0 {
						p.Update(k, w)
						used += w - old
						weights[k] = w
					}
					p.Access(k)
				} else {
					p.Add(k, w)
					weights[k] = w
					used += w
				}
				for used > budget {
					v, ok := p.Victim()
					if !ok {
						t.Fatalf("no victim with used %d", used)
					}
					if _, ok := weights[v]; !ok {
						t.Fatalf("victim %d not resident", v)
					}
					used -= weights[v]
					delete(weights, v)
					p.Remove(v)
				}
				if p.Len() != len(weights) || p.Weight() != used {
					t.Fatalf("step %d: policy Len %d Weight %d, owner %d %d", i, p.Len(), p.Weight(), len(weights), used)
				}
			}
		})
	}
}

// OnEvict "may call the cache": every method, Close included, from every
// goroutine that runs callbacks (the sweeper too), without deadlock.
func TestHostileOnEvictCallsCache(t *testing.T) {
	var c *cache.Cache[int, int]
	var once sync.Once
	closed := make(chan struct{})
	var calls atomic.Int64
	c, err := cache.New(&cache.Options[int, int]{MaxWeight: 4, TTL: time.Millisecond, SweepInterval: 2 * time.Millisecond,
		OnEvict: func(k, v int, r cache.Reason) {
			calls.Add(1)
			c.Len()
			c.Stats()
			c.Get(k)
			c.Set(k+1000, v) // may fail with ErrClosed later
			if r == cache.Expired {
				once.Do(func() { c.Close(); close(closed) })
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		c.Set(i, i)
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		buf := make([]byte, 1<<16)
		t.Fatalf("Close called from OnEvict (Expired, run by the sweeper) never returned (%d callbacks):\n%s",
			calls.Load(), buf[:runtime.Stack(buf, true)])
	}
}

func TestHostileAnalyzeFinite(t *testing.T) {
	for _, kind := range hostileKinds {
		c, _ := cache.New(&cache.Options[int, int]{MaxWeight: 1, Policy: kind, SweepInterval: -1})
		check := func(when string) {
			a := c.Analyze()
			vals := []float64{a.HitRatio, a.Effectiveness}
			for _, p := range a.Curve {
				vals = append(vals, p.HitRatio, p.Budget)
			}
			for _, v := range vals {
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					t.Errorf("%v %s: Analyze %+v has %v", kind, when, a, v)
					return
				}
			}
			if a.HitRatio > 1 || a.Effectiveness > 1.0000001 {
				t.Errorf("%v %s: Analyze %+v out of range", kind, when, a)
			}
		}
		check("empty")
		for i := range 5000 {
			c.Set(i%3, i)
			c.Get(i % 5)
		}
		check("after load")
		c.Close()
	}
}

// Reason's doc: Rejected is "a Set offered it, and the policy preferred what
// it already held (or it weighs more than the whole budget)"; Options.OnEvict
// is called for every entry "turned away". A too-large Set must show up as
// Rejected (in OnEvict and Stats).
func TestHostileTooLargeIsRejected(t *testing.T) {
	var got []string
	c, err := cache.New(&cache.Options[string, string]{MaxWeight: 4, SweepInterval: -1,
		Weigher: func(k, v string) int64 { return int64(len(v)) },
		OnEvict: func(k, v string, r cache.Reason) { got = append(got, fmt.Sprintf("%s=%s:%v", k, v, r)) }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Set("k", "ab")
	err = c.Set("k", "abcdefgh")
	if !errors.Is(err, cache.ErrTooLarge) {
		t.Fatal(err)
	}
	st := c.Stats()
	want := "k=abcdefgh:rejected"
	found := false
	for _, g := range got {
		found = found || g == want
	}
	if !found || st.Rejected != 1 {
		t.Errorf("OnEvict calls %v, Stats.Rejected %d: want %q among them and Rejected 1", got, st.Rejected, want)
	}
}

// HandlePolicy ignores calls on handles that are not resident.
func TestHostileHandlePolicyNonResident(t *testing.T) {
	for _, kind := range hostileKinds {
		p, err := cache.NewHandlePolicy[string](kind, 10)
		if err != nil {
			t.Fatal(err)
		}
		var zero cache.Handle[string]
		p.Access(&zero)
		p.Update(&zero, 5)
		p.Remove(&zero)
		p.Rekey(&zero, "x")
		p.AccessAll([]*cache.Handle[string]{&zero, &zero})
		hs := make([]cache.Handle[string], 30)
		for i := range hs {
			p.Add(&hs[i], strconv.Itoa(i), 1)
			p.Add(&hs[i], strconv.Itoa(i), 1) // resident: Update+Access
			for p.Weight() > 10 {
				v, ok := p.Victim()
				if !ok {
					t.Fatal("no victim")
				}
				p.Remove(v)
				p.Remove(v)
				p.Access(v)
			}
		}
		if p.Len() > 10 || p.Weight() > 10 {
			t.Errorf("%v: Len %d Weight %d", kind, p.Len(), p.Weight())
		}
	}
}

// An empty Cache counted in entries (nil Weigher) with a large MaxWeight, a
// user's "no practical limit", holds little memory: its table grows with the
// entries. It was once presized for min(MaxWeight, 16M) entries, about 136 MB
// per empty cache.
func TestHostileEmptyCacheMemory(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c, err := cache.New(&cache.Options[uint64, uint64]{MaxWeight: math.MaxInt64, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	runtime.KeepAlive(c)
	if grown > 16<<20 {
		t.Fatalf("an empty Cache with MaxWeight MaxInt64 holds %d MB of heap", grown>>20)
	}
}

// Analyze must not tell a user whose budget is 20 times too small for a loop
// (here a 2,000-key loop over a budget of 100) that the cache is larger than
// the workload needs. The hit rate is 0 at 0.5× and 1×, so "half the budget
// would keep the hit rate near 0%" once fired, although the analyzer's own
// ceiling (keys asked for again) is 90%.
func TestHostileAnalyzeNoShrinkAdviceBelowCeiling(t *testing.T) {
	for _, kind := range []cache.Kind{cache.LRU, cache.Adaptive} {
		c, err := cache.New(&cache.Options[int, int]{MaxWeight: 100, Policy: kind, SweepInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 20_000 {
			k := i % 2_000
			if _, ok := c.Get(k); !ok {
				c.Set(k, i)
			}
		}
		a := c.Analyze()
		c.Close()
		for _, r := range a.Recommendations {
			if strings.Contains(r, "larger than this workload needs") {
				t.Errorf("%v: a 2,000-key loop over a budget of 100 (hit rate %.2f, ceiling ~0.9): Analyze recommends %q",
					kind, a.HitRatio, r)
			}
		}
	}
}
