package heap_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tiermem/tiermem/cache"
	"github.com/tiermem/tiermem/internal/tiertest"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/heap"
)

func newPolicyStore(t testing.TB, o heap.PolicyOptions) *heap.Store {
	t.Helper()
	s, err := heap.NewWithPolicy(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPolicyConformance(t *testing.T) {
	tiertest.Run(t, func(t *testing.T) tier.Store {
		return newPolicyStore(t, heap.PolicyOptions{Capacity: 1 << 20})
	}, &tiertest.Options{Skip: map[string]string{
		// Both read through ViewMeta, which a store with a policy does not
		// count as a read (its owner calls Touch); the same promises with
		// Touch: TestPolicyVictimsFollowThePolicy and TestPolicyIdle.
		"ClockSecondChance": "reads are Touch calls, not ViewMeta, under a policy",
		"IdleFindsUnread":   "reads are Touch calls, not ViewMeta, under a policy",
	}})
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// pinnedMeta marks an entry exempt in these tests.
var pinnedMeta = []byte("pin")

func isPinned(meta []byte) bool { return string(meta) == "pin" }

// TestPolicyVictimsFollowThePolicy feeds a store with an LRU policy and a
// keyed LRU policy the same stores, reads (Touch), replacements and deletes:
// the store's victims must be the policy's, pinned entries never among
// them, and a replacement must count as a read. Reads reach the policy in
// batches, in the order of the buffer's stripes; Victim hands over those
// buffered, so the test asks for one after each read to keep the order.
func TestPolicyVictimsFollowThePolicy(t *testing.T) {
	s := newPolicyStore(t, heap.PolicyOptions{Kind: cache.LRU, Capacity: 1 << 20, Exempt: isPinned})
	defer s.Close()
	model := cache.NewLRU[string]()
	for i := range 100 {
		key := fmt.Sprint("k", i)
		meta := []byte(nil)
		if i%10 == 3 {
			meta = pinnedMeta
		} else {
			model.Add(key, 1)
		}
		if _, err := s.Put(key, []byte("v"), meta); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 100; i += 7 {
		key := fmt.Sprint("k", i)
		s.Touch(key)
		s.Victim(nil)
		model.Access(key)
		s.ViewMeta(fmt.Sprint("k", i+1), func(_, _ []byte) error { return nil }) // not a read for the policy
	}
	for i := 0; i < 100; i += 11 { // replacements: a pin taken off, a pin put on, plain
		key := fmt.Sprint("k", i)
		switch i % 10 {
		case 3:
			s.Put(key, []byte("w"), nil)
			model.Add(key, 1)
		case 5:
			s.Put(key, []byte("w"), pinnedMeta)
			model.Remove(key)
		default:
			s.Put(key, []byte("w"), nil) // as large: counted as a read, through the buffer
			model.Access(key)
		}
		s.Victim(nil)
	}
	s.Touch("absent") // ignored
	for model.Len() > 0 {
		want, _ := model.Victim()
		got, ok := s.Victim(nil)
		if !ok || got != want {
			t.Fatalf("victim %q (%v), want %q", got, ok, want)
		}
		if _, err := s.Delete(got); err != nil {
			t.Fatal(err)
		}
		model.Remove(want)
	}
	if v, ok := s.Victim(nil); ok {
		t.Fatalf("victim %q while only pinned entries are left", v)
	}
	if s.Len() == 0 {
		t.Fatal("the pinned entries are gone")
	}
}

// TestPolicyVictimSkip: when skip exempts the policy's victim, Victim
// names another key that neither skip nor Exempt exempts, or none.
func TestPolicyVictimSkip(t *testing.T) {
	s := newPolicyStore(t, heap.PolicyOptions{Kind: cache.FIFO, Capacity: 1000, Exempt: isPinned})
	defer s.Close()
	s.Put("first", []byte("v"), []byte("skip me"))
	s.Put("pinned", []byte("v"), pinnedMeta)
	s.Put("plain", []byte("v"), nil)
	skip := func(_ string, meta []byte) bool { return string(meta) == "skip me" }
	if v, ok := s.Victim(skip); !ok || v != "plain" {
		t.Fatalf("victim %q (%v), want plain", v, ok)
	}
	s.Delete("plain")
	if v, ok := s.Victim(skip); ok {
		t.Fatalf("victim %q, want none (the rest is skipped or pinned)", v)
	}
	if v, ok := s.Victim(nil); !ok || v != "first" {
		t.Fatalf("victim %q (%v) without skip, want first", v, ok)
	}
}

// TestIdleSince: a key is idle once neither read (Touch) nor stored since
// the time asked; pinned keys never are; ViewMeta is not a read.
func TestIdleSince(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	s := newPolicyStore(t, heap.PolicyOptions{Capacity: 1 << 20, Exempt: isPinned, Now: clock.Now})
	defer s.Close()
	s.Put("read", []byte("v"), nil)
	s.Put("viewed", []byte("v"), nil)
	s.Put("pinned", []byte("v"), pinnedMeta)
	s.Put("replaced", []byte("v"), nil)
	clock.Add(time.Minute)
	mark := clock.Now()
	clock.Add(time.Second)
	s.Touch("read")
	s.ViewMeta("viewed", func(_, _ []byte) error { return nil })
	s.Put("replaced", []byte("w"), nil)
	var idle []string
	if err := s.IdleSince(mark, func(key string) bool {
		idle = append(idle, key)
		_, err := s.Meta(key) // fn may call the store
		return err == nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(idle) != 1 || idle[0] != "viewed" {
		t.Fatalf("idle %v, want [viewed]", idle)
	}
	if err := heap.New().IdleSince(mark, func(string) bool { return true }); !errors.Is(err, heap.ErrNoPolicy) {
		t.Fatalf("IdleSince on a CLOCK store: %v", err)
	}
}

// TestPolicyIdle: Idle (tier.VictimChooser) under a policy reports the
// choosable keys not read since its previous call.
func TestPolicyIdle(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	s := newPolicyStore(t, heap.PolicyOptions{Capacity: 1 << 20, Exempt: isPinned, Now: clock.Now})
	defer s.Close()
	s.Put("a", []byte("v"), nil)
	s.Put("b", []byte("v"), nil)
	s.Put("p", []byte("v"), pinnedMeta)
	count := func() []string {
		var keys []string
		s.Idle(func(key string, _ []byte) bool { keys = append(keys, key); return true })
		return keys
	}
	clock.Add(time.Second)
	if k := count(); len(k) != 0 {
		t.Fatalf("first Idle reported %v", k)
	}
	clock.Add(time.Second)
	s.Touch("a")
	if k := count(); len(k) != 1 || k[0] != "b" {
		t.Fatalf("Idle reported %v, want [b]", k)
	}
}

func TestNewWithPolicyErrors(t *testing.T) {
	if _, err := heap.NewWithPolicy(heap.PolicyOptions{Kind: cache.Kind(42), Capacity: 10}); !errors.Is(err, cache.ErrPolicy) {
		t.Errorf("unknown kind: %v", err)
	}
	if _, err := heap.NewWithPolicy(heap.PolicyOptions{}); !errors.Is(err, cache.ErrCapacity) {
		t.Errorf("capacity 0: %v", err)
	}
}

// TestPolicyStoreClosedInTheMiddle: Puts, replacements, Touches, Deletes,
// Victims and IdleSince racing a Close end with ErrClosed or success, never
// a crash, and the closed store names no victim.
func TestPolicyStoreClosedInTheMiddle(t *testing.T) {
	s := newPolicyStore(t, heap.PolicyOptions{Capacity: 1 << 16, Exempt: isPinned})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 3000 {
				key := fmt.Sprint("k", (i*7+g)%97)
				var err error
				switch i % 5 {
				case 0, 1:
					meta := []byte(nil)
					if i%13 == 0 {
						meta = pinnedMeta
					}
					_, err = s.Put(key, make([]byte, i%50), meta)
				case 2:
					s.Touch(key)
				case 3:
					_, err = s.Delete(key)
				case 4:
					if v, ok := s.Victim(nil); ok {
						s.Delete(v)
					}
					s.IdleSince(time.Now(), func(string) bool { return true })
				}
				if err != nil && !errors.Is(err, tier.ErrClosed) && !errors.Is(err, tier.ErrNotFound) {
					t.Error(err)
					return
				}
			}
		}()
	}
	time.Sleep(5 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if v, ok := s.Victim(nil); ok {
		t.Fatalf("a closed store named victim %q", v)
	}
}

// ExampleNewWithPolicy makes a hot store that evicts by LRU and never
// evicts entries whose meta says they are pinned.
func ExampleNewWithPolicy() {
	s, err := heap.NewWithPolicy(heap.PolicyOptions{
		Kind:     cache.LRU,
		Capacity: 1 << 20,
		Exempt:   func(meta []byte) bool { return string(meta) == "pinned" },
	})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	s.Put("a", []byte("1"), nil)
	s.Put("b", []byte("2"), []byte("pinned"))
	s.Put("c", []byte("3"), nil)
	s.Touch("a") // a read: c is now the least recently used that may leave
	victim, _ := s.Victim(nil)
	fmt.Println(victim)
	// Output: c
}

// TestViewMetaTouch: a view whose callback succeeds is a read (the key's
// read time moves, and it is no longer idle); one whose callback fails is
// not; a missing key is ErrNotFound.
func TestViewMetaTouch(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	s := newPolicyStore(t, heap.PolicyOptions{Capacity: 1 << 20, Now: clock.Now})
	defer s.Close()
	s.Put("ok", []byte("v"), nil)
	s.Put("failed", []byte("v"), nil)
	clock.Add(time.Second)
	mark := clock.Now()
	clock.Add(time.Second)
	if err := s.ViewMetaTouch("ok", func(v, _ []byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := s.ViewMetaTouch("failed", func(v, _ []byte) error { return boom }); err != boom {
		t.Fatalf("the callback's error became %v", err)
	}
	if err := s.ViewMetaTouch("absent", func(v, _ []byte) error { return nil }); !errors.Is(err, tier.ErrNotFound) {
		t.Fatalf("absent key: %v", err)
	}
	var idle []string
	s.IdleSince(mark, func(key string) bool { idle = append(idle, key); return true })
	if len(idle) != 1 || idle[0] != "failed" {
		t.Fatalf("idle %v, want [failed]", idle)
	}
}
