package heap_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier/heap"
)

// TestIdleSinceAgainstModel drives a store with random stores (some
// pinned, some of another size), reads, deletes, clock steps and
// IdleSince calls whose fn deletes some keys and keeps others, against a
// model of each key's last use: every IdleSince hands out exactly the
// unpinned keys last used before its since, whether it scanned the entries
// or knew from the last scan that none could be idle.
func TestIdleSinceAgainstModel(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	clock := &fakeClock{now: time.Unix(1000, 0)}
	s := newPolicyStore(t, heap.PolicyOptions{Capacity: 1 << 20, Exempt: isPinned, Now: clock.Now})
	defer s.Close()
	last := map[string]time.Time{} // unpinned keys' last use
	pinned := map[string]bool{}
	for step := range 20000 {
		key := fmt.Sprint("k", r.IntN(50))
		switch op := r.IntN(10); {
		case op < 3:
			meta := []byte(nil)
			if r.IntN(10) == 0 {
				meta = pinnedMeta
			}
			s.Put(key, make([]byte, 1+r.IntN(3)*40), meta)
			delete(last, key)
			delete(pinned, key)
			if meta != nil {
				pinned[key] = true
			} else {
				last[key] = clock.Now()
			}
		case op < 5:
			s.Touch(key)
			if _, ok := last[key]; ok {
				last[key] = clock.Now()
			}
		case op < 6:
			s.Delete(key)
			delete(last, key)
			delete(pinned, key)
		case op < 8:
			clock.Add(time.Duration(r.IntN(3000)) * time.Millisecond)
		default:
			since := clock.Now().Add(-time.Duration(r.IntN(20000)) * time.Millisecond)
			var want, got []string
			for k, at := range last {
				if at.Before(since) {
					want = append(want, k)
				}
			}
			err := s.IdleSince(since, func(k string) bool {
				got = append(got, k)
				if r.IntN(2) == 0 {
					s.Delete(k)
					delete(last, k)
				}
				return true
			})
			slices.Sort(want)
			slices.Sort(got)
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("step %d: IdleSince(now-%v) handed %v, want %v (%v)", step, clock.Now().Sub(since), got, want, err)
			}
		}
	}
}

// TestIdleSinceScansOnlyWhenAKeyCanBeIdle: after a scan that found every
// key read within the last minute, asking for keys idle an hour looks at
// no entry (Exempt, called for each entry a scan looks at, is not called)
// until an hour has passed since the oldest read; a store in between (its
// time is later) changes nothing, and the scan then finds what it must.
func TestIdleSinceScansOnlyWhenAKeyCanBeIdle(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	var looks atomic.Int64
	s := newPolicyStore(t, heap.PolicyOptions{Capacity: 1 << 20, Now: clock.Now,
		Exempt: func(meta []byte) bool { looks.Add(1); return isPinned(meta) }})
	defer s.Close()
	for i := range 1000 {
		s.Put(fmt.Sprint("k", i), []byte("v"), nil)
	}
	oldest := clock.Now()
	clock.Add(time.Minute)
	idle := func() (found int, looked int64) {
		looks.Store(0)
		s.IdleSince(clock.Now().Add(-time.Hour), func(string) bool { found++; return true })
		return found, looks.Load()
	}
	if found, looked := idle(); found != 0 || looked < 1000 {
		t.Fatalf("first IdleSince: %d idle, looked at %d entries; want 0, every one", found, looked)
	}
	for range 59 {
		clock.Add(time.Minute)
		s.Put("new", []byte("v"), nil)
		if found, looked := idle(); found != 0 || looked != 0 {
			t.Fatalf("at %v: %d idle, looked at %d entries; want none, none", clock.Now().Sub(oldest), found, looked)
		}
	}
	clock.Add(time.Second)
	if found, looked := idle(); found != 1000 || looked < 1000 {
		t.Fatalf("an hour after the first stores: %d idle, looked at %d; want 1000, every entry", found, looked)
	}
}

// TestSetLastUse: a store under a policy takes the time a key was last
// used (a value renamed keeps its idle time), LastUse and IdleSince see
// it, and a key it does not hold or a store under CLOCK reports false.
func TestSetLastUse(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	s := newPolicyStore(t, heap.PolicyOptions{Capacity: 1 << 20, Now: func() time.Time { return now }})
	if _, err := s.Put("k", []byte("v"), nil); err != nil {
		t.Fatal(err)
	}
	earlier := now.Add(-time.Hour)
	if !s.SetLastUse("k", earlier) {
		t.Fatal("SetLastUse of a held key reported false")
	}
	if at, ok := s.LastUse("k"); !ok || !at.Equal(earlier) {
		t.Fatalf("LastUse = %v, %v; want %v", at, ok, earlier)
	}
	var idle []string
	if err := s.IdleSince(now.Add(-time.Minute), func(key string) bool { idle = append(idle, key); return true }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(idle, []string{"k"}) {
		t.Fatalf("IdleSince after SetLastUse an hour back: %v, want [k]", idle)
	}
	if s.SetLastUse("absent", earlier) {
		t.Error("SetLastUse of an absent key reported true")
	}
	if heap.New().SetLastUse("k", earlier) {
		t.Error("SetLastUse on a CLOCK store reported true")
	}
}
