package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"testing"

	"github.com/tiermem/tiermem"
)

// TestHostilePinnedKeyIsNotPromoted: Pinned "keeps the value in the tier it
// is stored in" and Unpin "lets migration move key again": a pinned key
// read often must stay where it was pinned.
func TestHostilePinnedKeyIsNotPromoted(t *testing.T) {
	m, _ := openClocked(t, tiermem.Options{DemoteAfter: -1, PromoteHits: 3})
	must(t, m.Store("p", []byte("pinned value"), tiermem.InTier(tiermem.Cold), tiermem.Pinned()))
	must(t, m.Store("q", []byte("pinned later"), tiermem.InTier(tiermem.Warm)))
	must(t, m.Pin("q"))
	for range 10 {
		for _, k := range []string{"p", "q"} {
			if _, err := m.Retrieve(k); err != nil {
				t.Fatal(err)
			}
		}
	}
	must(t, m.Migrate())
	if got := tierOf(t, m, "p"); got != tiermem.Cold {
		t.Errorf("a key stored Pinned in cold was moved by a migration pass to %v", got)
	}
	if got := tierOf(t, m, "q"); got != tiermem.Warm {
		t.Errorf("a key pinned in warm was moved by a migration pass to %v", got)
	}
}

// hostileValue is the value key i holds in generation g: n bytes that do
// not compress, then "i/g".
func hostileValue(i, g, n int) []byte {
	v := make([]byte, n, n+24)
	x := uint64(i)<<32 ^ uint64(g) ^ 0x9e3779b97f4a7c15
	for j := range v {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		v[j] = byte(x)
	}
	return append(v, fmt.Sprintf("%d/%d", i, g)...)
}

// TestHostileReadsNeverMissWhileKeysMove: moves write before they delete,
// "so a reader always finds the key": Retrieve of a present key must never
// be ErrNotFound (nor wrong bytes) while Move, Copy, room-making and
// migration passes move it among the tiers.
func TestHostileReadsNeverMissWhileKeysMove(t *testing.T) {
	for _, d := range []tiermem.Durability{tiermem.None, tiermem.Always} {
		t.Run(d.String(), func(t *testing.T) {
			m := open(t, &tiermem.Options{
				Hot: tiermem.TierOptions{Size: 256 << 10}, Warm: tiermem.TierOptions{Size: 512 << 10},
				Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1, Durability: d,
				PromoteHits: 2,
			})
			const keys, size = 16, 8 << 10
			for i := range keys {
				must(t, m.Store(fmt.Sprint("k", i), hostileValue(i, 0, size), tiermem.InTier(tiermem.Hot)))
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var failed atomic.Bool
			fail := func(format string, args ...any) {
				if failed.CompareAndSwap(false, true) {
					t.Errorf(format, args...)
				}
			}
			run := func(fn func(n int)) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for n := 0; ; n++ {
						select {
						case <-stop:
							return
						default:
						}
						fn(n)
					}
				}()
			}
			tiers := []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold, tiermem.Glacier}
			run(func(n int) { // explicit moves
				err := m.Move(fmt.Sprint("k", n%keys), tiers[(n/keys)%len(tiers)])
				if err != nil && !errors.Is(err, tiermem.ErrNoSpace) {
					fail("Move: %v", err)
				}
			})
			run(func(n int) { // copies
				err := m.Copy(fmt.Sprint("k", (n*7)%keys), tiers[n%len(tiers)])
				if err != nil && !errors.Is(err, tiermem.ErrNoSpace) {
					fail("Copy: %v", err)
				}
			})
			run(func(n int) { // room-making in hot
				if err := m.Store(fmt.Sprint("filler", n%64), make([]byte, 32<<10), tiermem.InTier(tiermem.Hot)); err != nil {
					fail("Store filler: %v", err)
				}
			})
			run(func(int) {
				if err := m.Migrate(); err != nil {
					fail("Migrate: %v", err)
				}
			})
			for r := range 2 {
				run(func(n int) {
					i := (n + r*5) % keys
					got, err := m.Retrieve(fmt.Sprint("k", i))
					if err != nil {
						fail("Retrieve(k%d) of a present key while it moves: %v", i, err)
						return
					}
					if !bytes.Equal(got, hostileValue(i, 0, size)) {
						fail("Retrieve(k%d) returned wrong bytes", i)
					}
				})
			}
			time.Sleep(2 * time.Second)
			close(stop)
			wg.Wait()
		})
	}
}

// hostileLoop runs fn in a goroutine until stop is closed.
func hostileLoop(wg *sync.WaitGroup, stop <-chan struct{}, fn func(n int)) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			fn(n)
		}
	}()
}

// TestHostilePinHoldsAgainstRoomMaking: once Pin returns, "no migration pass
// and no need for room demotes it". Stores of other keys keep making room
// in hot and warm while keys there are pinned one by one: a key found in a
// memory tier after its Pin returned must still be there at the end.
func TestHostilePinHoldsAgainstRoomMaking(t *testing.T) {
	m := open(t, &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 512 << 10}, Warm: tiermem.TierOptions{Size: 1 << 20},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1,
	})
	const candidates = 8
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 2 {
		hostileLoop(&wg, stop, func(n int) {
			err := m.Store(fmt.Sprintf("f%d-%d", g, n%200), make([]byte, 16<<10), tiermem.InTier(tiermem.Hot))
			if err != nil && !errors.Is(err, tiermem.ErrNoSpace) {
				t.Errorf("Store: %v", err)
			}
		})
	}
	stopAll := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopAll()
	pinnedAt := map[string]tiermem.Tier{}
	deadline := time.Now().Add(3 * time.Second)
rounds:
	for r := 0; time.Now().Before(deadline); r++ {
		for i := range candidates {
			key := fmt.Sprintf("p%d-%d", r, i)
			if err := m.Store(key, make([]byte, 8<<10), tiermem.InTier(tiermem.Hot)); errors.Is(err, tiermem.ErrNoSpace) {
				break rounds // hot is full of the keys pinned so far
			} else if err != nil {
				t.Fatalf("Store: %v", err)
			}
		}
		for i := range candidates {
			key := fmt.Sprintf("p%d-%d", r, i)
			if err := m.Pin(key); err != nil {
				t.Fatalf("Pin: %v", err)
			}
			if tr := tierOf(t, m, key); tr < tiermem.Cold {
				pinnedAt[key] = tr
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	time.Sleep(200 * time.Millisecond)
	stopAll()
	if len(pinnedAt) == 0 {
		t.Fatal("no key was still in a memory tier when pinned")
	}
	for key, was := range pinnedAt {
		if got := tierOf(t, m, key); got != was {
			t.Errorf("%q was pinned in %v and then demoted to %v by room-making", key, was, got)
		}
	}
}

// TestHostileUsageNeverExceedsBudget: "A tier never exceeds its byte
// budget", also while Stores replace each other's values in a tiny warm
// tier (several writers storing the same keys): Usage must never show more
// used than the budget.
func TestHostileUsageNeverExceedsBudget(t *testing.T) {
	m := open(t, &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 128 << 10}, Warm: tiermem.TierOptions{Size: 256 << 10},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1,
	})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		hostileLoop(&wg, stop, func(n int) {
			k := (n*7 + g) % 97
			size := 1<<10 + (k*4099)%(40<<10) // each key's values have one size
			if err := m.Store(fmt.Sprint("k", k), make([]byte, size), tiermem.InTier(tiermem.Warm)); err != nil {
				t.Errorf("Store: %v", err)
			}
		})
	}
	deadline := time.Now().Add(6 * time.Second)
	for time.Now().Before(deadline) {
		if u := m.Usage()[tiermem.Warm]; u.Used > u.Capacity {
			t.Errorf("warm tier %+v: over its budget by %d bytes", u, u.Used-u.Capacity)
			break
		}
	}
	close(stop)
	wg.Wait()
}

// TestHostileRenameNeverResurrects: Rename of a key being overwritten
// moves one value and leaves no older one behind: once b holds generation
// g, any value a holds afterwards is a later Store's.
func TestHostileRenameNeverResurrects(t *testing.T) {
	m := open(t, &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 64 << 10}, Warm: tiermem.TierOptions{Size: 128 << 10},
		Cold: tiermem.TierOptions{Size: 64 << 20}, MigrateInterval: -1,
	})
	gen := func(v []byte) int {
		var g int
		fmt.Sscanf(string(v[:bytes.IndexByte(v, ':')]), "%d", &g)
		return g
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	hostileLoop(&wg, stop, func(n int) {
		v := append([]byte(fmt.Sprintf("%d:", n+1)), make([]byte, 6<<10)...)
		if err := m.Store("a", v, tiermem.InTier(tiermem.Tier(n%3))); err != nil {
			t.Errorf("Store: %v", err)
		}
	})
	hostileLoop(&wg, stop, func(n int) {
		var err error
		if n%2 == 0 {
			err = m.Rename("a", "b", true)
		} else {
			err = m.Move("b", tiermem.Tier(n%3))
		}
		if err != nil && !errors.Is(err, tiermem.ErrNotFound) {
			t.Errorf("Rename/Move: %v", err)
		}
	})
	hostileLoop(&wg, stop, func(int) { // room-making pressure
		if err := m.Migrate(); err != nil {
			t.Errorf("Migrate: %v", err)
		}
	})
	stopAll := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopAll()
	deadline := time.Now().Add(3 * time.Second)
	lastB := 0
	for time.Now().Before(deadline) {
		vb, errB := m.Retrieve("b")
		va, errA := m.Retrieve("a")
		if errB == nil {
			gb := gen(vb)
			if gb < lastB {
				t.Fatalf("b went back from generation %d to %d", lastB, gb)
			}
			lastB = gb
			if errA == nil && gen(va) <= gb {
				t.Fatalf("a holds generation %d after b got %d by a Rename: an older value is back", gen(va), gb)
			}
		}
	}
	stopAll()
}

// TestHostileCloseDuringMigrationKeepsTTLAndPin closes while passes,
// room-making and Moves run over keys stored with a TTL or pinned: the next
// Open finds every acknowledged value with its TTL and its pin.
func TestHostileCloseDuringMigrationKeepsTTLAndPin(t *testing.T) {
	type acked struct {
		gen    int
		ttl    bool
		pinned bool
	}
	for round := range 4 {
		dir := t.TempDir()
		o := tiermem.Options{MigrateInterval: time.Millisecond, DemoteAfter: time.Millisecond, PromoteHits: 2,
			Hot: tiermem.TierOptions{Size: 128 << 10}, Warm: tiermem.TierOptions{Size: 256 << 10},
			Cold: tiermem.TierOptions{Size: 1 << 30}}
		m, err := tiermem.Open(dir, &o)
		must(t, err)
		const keys = 60
		var mu sync.Mutex
		state := map[string]acked{}
		var wg sync.WaitGroup
		for g := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ; n++ {
					i := (n*3 + g) % keys
					if i%3 != g {
						continue // one writer a key
					}
					key := fmt.Sprint("k", i)
					a := acked{gen: n, ttl: i%2 == 0, pinned: i%5 == 0}
					opts := []tiermem.StoreOption{tiermem.InTier(tiermem.Tier(n % 3))}
					if a.ttl {
						opts = append(opts, tiermem.WithTTL(time.Hour))
					}
					if a.pinned {
						opts = append(opts, tiermem.Pinned())
					}
					err := m.Store(key, hostileValue(i, n, 4<<10), opts...)
					if errors.Is(err, tiermem.ErrClosed) {
						return
					}
					if errors.Is(err, tiermem.ErrNoSpace) {
						continue // a pinned value that found no room: the key holds its previous one
					}
					if err != nil {
						t.Errorf("Store: %v", err)
						return
					}
					mu.Lock()
					state[key] = a
					mu.Unlock()
					m.Retrieve(key)
					m.Retrieve(key)
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				err := m.Move(fmt.Sprint("k", n%keys), tiermem.Tier(n%4))
				if errors.Is(err, tiermem.ErrClosed) {
					return
				}
			}
		}()
		time.Sleep(time.Duration(50+round*40) * time.Millisecond)
		must(t, m.Close())
		wg.Wait()
		m, err = tiermem.Open(dir, &o)
		must(t, err)
		for i := range keys {
			key := fmt.Sprint("k", i)
			a, ok := state[key]
			if !ok {
				continue
			}
			got, err := m.Retrieve(key)
			if err != nil || !bytes.Equal(got, hostileValue(i, a.gen, 4<<10)) {
				t.Errorf("round %d: %q after reopen: %v (want generation %d)", round, key, err, a.gen)
				continue
			}
			at, err := m.ExpireTime(key)
			must(t, err)
			if at.IsZero() == a.ttl {
				t.Errorf("round %d: %q after reopen expires at %v, stored with TTL %v", round, key, at, a.ttl)
			}
			pinned, err := m.IsPinned(key)
			must(t, err)
			if pinned != a.pinned {
				t.Errorf("round %d: %q after reopen pinned %v, stored pinned %v", round, key, pinned, a.pinned)
			}
		}
		must(t, m.Close())
	}
}
