package heap_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier/heap"
)

// TestPrepareLookupsChangesNothing checks that the hint is only a hint:
// after PrepareLookups of present, absent and empty keys, every value, the
// store's sizes, its next victim and its keys' idleness are as before (no
// read recorded), under CLOCK and under a policy, and a closed store takes
// the hint too.
func TestPrepareLookupsChangesNothing(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	stores := map[string]*heap.Store{
		"clock":  heap.New(),
		"policy": newPolicyStore(t, heap.PolicyOptions{Capacity: 1 << 20, Now: clock.Now}),
	}
	for name, s := range stores {
		var keys [][]byte
		for i := range 200 {
			key := fmt.Sprint("k", i)
			if _, err := s.Put(key, []byte(key+"-value"), []byte("m")); err != nil {
				t.Fatal(err)
			}
			keys = append(keys, []byte(key))
		}
		keys = append(keys, []byte("absent"), nil, []byte("k7"))
		if name == "clock" {
			s.Idle(func(string, []byte) bool { return true }) // clears every reference
		}
		victim, _ := s.Victim(nil)
		used, n := s.Used(), s.Len()
		clock.now = clock.now.Add(time.Minute)
		s.PrepareLookups(keys)
		s.PrepareLookups(nil)
		if name == "clock" {
			idle := 0
			s.Idle(func(string, []byte) bool { idle++; return true })
			if idle != 200 {
				t.Errorf("%s: %d of 200 keys idle after PrepareLookups: it recorded reads", name, idle)
			}
		}
		if s.Used() != used || s.Len() != n {
			t.Errorf("%s: Used %d Len %d after PrepareLookups, %d and %d before", name, s.Used(), s.Len(), used, n)
		}
		if v, _ := s.Victim(nil); name == "policy" && v != victim { // CLOCK's sweeps start at random
			t.Errorf("%s: victim %q after PrepareLookups, %q before", name, v, victim)
		}
		for _, k := range keys[:200] {
			if err := s.View(string(k), func(v []byte) error {
				if string(v) != string(k)+"-value" {
					t.Errorf("%s: %s reads %q", name, k, v)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		if name == "policy" {
			var idle []string
			s.IdleSince(clock.now.Add(-time.Second), func(key string) bool { idle = append(idle, key); return true })
			if len(idle) != 200 {
				t.Errorf("%s: %d keys idle for the last second after PrepareLookups, want all 200 (it recorded reads)", name, len(idle))
			}
		}
		s.Close()
		s.PrepareLookups(slices.Clone(keys))
	}
}
