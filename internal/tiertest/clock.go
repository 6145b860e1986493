package tiertest

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tiermem/tiermem/tier"
)

// clockChecks are the checks of a store that chooses its own victims (a
// tier.VictimChooser, by reference bits that reads set).
var clockChecks = []struct {
	name  string
	check func(t *testing.T, s clockStore)
}{
	{"ClockSecondChance", clockSecondChance},
	{"ClockSkipsExempt", clockSkipsExempt},
	{"IdleFindsUnread", idleFindsUnread},
	{"ClockWhileEverythingIsRead", clockWhileEverythingIsRead},
	{"ClockCloseRacing", clockCloseRacing},
}

type clockStore interface {
	tier.Store
	tier.VictimChooser
}

// runClock runs clockChecks when the stores open makes choose their own victims.
func (c *checks) runClock(open func(t *testing.T) tier.Store) {
	for _, cc := range clockChecks {
		c.run(cc.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			cs, ok := s.(clockStore)
			if !ok {
				t.Skipf("%T chooses no victims of its own", s)
			}
			cc.check(t, cs)
		})
	}
}

func read(t *testing.T, s tier.Store, key string) {
	t.Helper()
	if err := s.ViewMeta(key, func(_, _ []byte) error { return nil }); err != nil {
		t.Fatalf("reading %s: %v", key, err)
	}
}

func putKeys(t *testing.T, s tier.Store, n int) {
	t.Helper()
	for i := range n {
		if _, err := s.Put(fmt.Sprint("k", i), []byte("v"), nil); err != nil {
			t.Fatal(err)
		}
	}
}

// clockSecondChance: a fresh key counts as referenced, so the first victim
// comes once the hand has cleared every bit; keys read after that are spared.
func clockSecondChance(t *testing.T, s clockStore) {
	putKeys(t, s, 10)
	first, ok := s.Victim(nil)
	if !ok {
		t.Fatal("no victim among 10 keys")
	}
	if _, err := s.Delete(first); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i += 2 {
		if k := fmt.Sprint("k", i); k != first {
			read(t, s, k)
		}
	}
	for range 4 {
		v, ok := s.Victim(nil)
		if !ok {
			t.Fatal("no victim")
		}
		var n int
		fmt.Sscan(v[1:], &n)
		if n%2 == 0 {
			t.Errorf("victim %s was read since the hand passed", v)
		}
		if _, err := s.Delete(v); err != nil {
			t.Fatal(err)
		}
	}
}

func clockSkipsExempt(t *testing.T, s clockStore) {
	s.Put("pinned", []byte("v"), []byte("P"))
	s.Put("plain", []byte("v"), nil)
	skip := func(_ string, meta []byte) bool { return string(meta) == "P" }
	if v, ok := s.Victim(skip); !ok || v != "plain" {
		t.Fatalf("Victim = %q, %v; want plain", v, ok)
	}
	s.Delete("plain")
	if v, ok := s.Victim(skip); ok {
		t.Errorf("Victim = %q with only an exempt key left", v)
	}
}

func idleFindsUnread(t *testing.T, s clockStore) {
	s.Put("read", []byte("v"), nil)
	s.Put("unread", []byte("v"), nil)
	s.Idle(func(string, []byte) bool { return true }) // clears the bits of the fresh keys
	read(t, s, "read")
	s.Meta("unread") // the Manager's own looks are not reads
	if sz, ok := tier.Store(s).(tier.Sizer); ok {
		sz.Size("unread")
	}
	var idle []string
	s.Idle(func(key string, _ []byte) bool { idle = append(idle, key); return true })
	if fmt.Sprint(idle) != "[unread]" {
		t.Errorf("Idle = %v, want [unread]", idle)
	}
}

// clockWhileEverythingIsRead reads every key in a loop while the hand
// sweeps: readers set the bits again as fast as the hand clears them, and
// Victim must still name a key (the warm store once reported none, which
// the Manager took for a tier full of pinned values).
func clockWhileEverythingIsRead(t *testing.T, s clockStore) {
	putKeys(t, s, 20)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			for i := range 20 {
				s.ViewMeta(fmt.Sprint("k", i), func(_, _ []byte) error { return nil })
			}
		}
	}()
	for range 2000 {
		if _, ok := s.Victim(nil); !ok {
			close(stop)
			<-done
			t.Fatal("Victim found none among 20 unpinned keys being read")
		}
	}
	close(stop)
	<-done
	for i := range 20 { // every bit set: the first turn clears them, the second takes one
		read(t, s, fmt.Sprint("k", i))
	}
	if _, ok := s.Victim(func(string, []byte) bool { return true }); ok {
		t.Error("Victim named a key that skip exempts")
	}
}

// clockCloseRacing runs Victim and Idle, with readers and writers, while
// the store closes: nothing panics or faults (the sweeps read the store's
// memory, which Close frees), and once Close has returned Victim names no
// key and Idle calls fn for none. The suite's CloseRacing calls neither.
func clockCloseRacing(t *testing.T, s clockStore) {
	putKeys(t, s, 200)
	var closed atomic.Bool
	var failed atomic.Value
	fail := func(format string, args ...any) { failed.CompareAndSwap(nil, fmt.Sprintf(format, args...)) }
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					fail("goroutine %d panicked with Close racing it: %v\n%s", g, p, debug.Stack())
				}
			}()
			for i := 0; ; i++ {
				after := closed.Load() // Close returned before this call began
				switch (i + g) % 4 {
				case 0:
					if k, ok := s.Victim(nil); ok && after {
						fail("Victim named %q after Close returned", k)
					}
				case 1:
					s.Idle(func(key string, _ []byte) bool {
						if after {
							fail("Idle called fn with %q after Close returned", key)
						}
						return true
					})
				case 2:
					s.ViewMeta(fmt.Sprint("k", i%200), func(_, _ []byte) error { return nil })
				case 3:
					s.Put(fmt.Sprint("k", i%200), []byte("v"), nil)
				}
				if after && i > 64 {
					return
				}
			}
		})
	}
	runtime.Gosched()
	must(t, s.Close())
	closed.Store(true)
	wg.Wait()
	if f := failed.Load(); f != nil {
		t.Fatal(f)
	}
}
