package tiermem_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/tier"
	"github.com/tiermem/tiermem/tier/heap"
)

// scanHook is a tier.Store (only: no VictimChooser, so the Manager
// chooses its victims with a policyVictims) that runs hooks around the
// Scans SetTierPolicy's fill makes: after[i] once the i-th Scan has listed
// the entries, before[i] before it lists them. The hooks run with no lock
// of the store held, in SetTierPolicy's goroutine, as another client's
// operations would run meanwhile.
type scanHook struct {
	tier.Store
	mu     sync.Mutex
	armed  bool
	n      int
	before map[int]func()
	after  map[int]func()
}

func (s *scanHook) Scan(fn func(key string, meta []byte, size int64) error) error {
	s.mu.Lock()
	n, armed := s.n, s.armed
	if armed {
		s.n++
	}
	s.mu.Unlock()
	if armed && s.before[n] != nil {
		s.before[n]()
	}
	err := s.Store.Scan(fn)
	if armed && s.after[n] != nil {
		s.after[n]()
	}
	return err
}

func (s *scanHook) arm(before, after map[int]func()) {
	s.mu.Lock()
	s.armed, s.before, s.after = true, before, after
	s.mu.Unlock()
}

// TestSetTierPolicyPinDuringTheSwitch: a Pin that lands after the new
// victims' fill listed the tier (which then saw the key unpinned) keeps the
// value out of the new policy: it is never demoted to make room (a review
// found it demoted).
func TestSetTierPolicyPinDuringTheSwitch(t *testing.T) {
	warm := &scanHook{Store: heap.New()}
	m := open(t, &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 64 << 10},
		Warm: tiermem.TierOptions{Size: 8 << 10, Store: warm}, Cold: tiermem.TierOptions{Size: 64 << 20}})
	value := make([]byte, 1<<10)
	must(t, m.Store("p", value, tiermem.InTier(tiermem.Warm)))
	warm.arm(nil, map[int]func(){0: func() { must(t, m.Pin("p")) }})
	must(t, m.SetTierPolicy(tiermem.Warm, tiermem.PolicyLRU))
	if pinned, err := m.IsPinned("p"); err != nil || !pinned {
		t.Fatalf("IsPinned(p) = %v, %v", pinned, err)
	}
	for i := range 20 { // fill warm again and again: room is made from unpinned values only
		must(t, m.Store(fmt.Sprint("f", i), value, tiermem.InTier(tiermem.Warm)))
	}
	if got := tierOf(t, m, "p"); got != tiermem.Warm {
		t.Fatalf("p, pinned (Pin returned nil during SetTierPolicy(Warm, LRU)), was demoted to make room: it is in %v", got)
	}
}

// TestSetTierPolicyStoreAfterTheSwitchFindsVictims: values that come into
// the tier after the new victims' fill listed it, and values the fill
// listed that leave meanwhile, are told to the new victims too: a Store
// that needs room right after the switch makes it from the values the tier
// holds (a review found it failing with ErrNoSpace when the new victims
// knew only keys that were gone).
func TestSetTierPolicyStoreAfterTheSwitchFindsVictims(t *testing.T) {
	warm := &scanHook{Store: heap.New()}
	value := make([]byte, 1<<10)
	per := heap.New().Cost(2, len(value), 0) // one entry of a 2-byte key, no header
	m := open(t, &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 64 << 10},
		Warm: tiermem.TierOptions{Size: 2*per + per/2, Store: warm}, Cold: tiermem.TierOptions{Size: 64 << 20}})
	must(t, m.Store("k1", value, tiermem.InTier(tiermem.Warm)))
	must(t, m.Store("k2", value, tiermem.InTier(tiermem.Warm)))
	warm.arm(nil, map[int]func(){
		0: func() { // other clients, once the fill has listed the tier
			must(t, m.Move("k1", tiermem.Cold))
			must(t, m.Move("k2", tiermem.Cold))
			must(t, m.Store("k3", value, tiermem.InTier(tiermem.Warm)))
			must(t, m.Store("k4", value, tiermem.InTier(tiermem.Warm)))
		},
	})
	must(t, m.SetTierPolicy(tiermem.Warm, tiermem.PolicyLRU))
	if err := m.Store("k5", value, tiermem.InTier(tiermem.Warm)); err != nil {
		u := m.Usage()
		t.Fatalf("Store of k5 into warm after the switch: %v (warm: %+v)", err, u[tiermem.Warm])
	}
	if got, err := m.Retrieve("k5"); err != nil || !bytes.Equal(got, value) {
		t.Fatalf("k5: %v", err)
	}
}
