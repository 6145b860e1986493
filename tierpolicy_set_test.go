package tiermem_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/tier/disk"
)

// TestSetTierPolicyHotFollowsTheNewPolicy switches the hot tier from
// Adaptive to LRU and checks that room is then made by recency: the value
// read least recently leaves first.
func TestSetTierPolicyHotFollowsTheNewPolicy(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 64 << 10},
		Warm: tiermem.TierOptions{Size: 4 << 20}, Cold: tiermem.TierOptions{Size: 64 << 20}})
	value := make([]byte, 6<<10-16) // ten fit: each entry's allocation takes the allocator's 6 KiB size class
	for i := range 8 {
		must(t, m.Store(fmt.Sprint("k", i), value, tiermem.InTier(tiermem.Hot)))
	}
	for _, i := range []int{0, 2, 4, 6, 1, 3, 5, 7} { // recency, least recent first: the order read
		time.Sleep(2 * time.Millisecond)
		if _, err := m.Retrieve(fmt.Sprint("k", i)); err != nil {
			t.Fatal(err)
		}
	}
	must(t, m.SetTierPolicy(tiermem.Hot, tiermem.PolicyLRU))
	if p, _ := m.TierPolicy(tiermem.Hot); p != tiermem.PolicyLRU {
		t.Fatalf("TierPolicy(Hot) = %v after SetTierPolicy(Hot, LRU)", p)
	}
	for i := range 5 { // room for the last three of these pushes out k0, k2, k4
		must(t, m.Store(fmt.Sprint("new", i), value, tiermem.InTier(tiermem.Hot)))
	}
	for i, want := range []tiermem.Tier{tiermem.Warm, tiermem.Hot, tiermem.Warm, tiermem.Hot, tiermem.Warm, tiermem.Hot, tiermem.Hot, tiermem.Hot} {
		if got := tierOf(t, m, fmt.Sprint("k", i)); got != want {
			t.Errorf("k%d in %v, want %v (LRU demotes the least recently read)", i, got, want)
		}
	}
}

// TestSetTierPolicyWarmAndCold switches warm from CLOCK (auto) to each
// policy and back, and cold from sampled write age (auto) to a policy,
// storing into the full tiers after each switch: their new victims (every
// entry held) make room, values keep moving down, and every one reads back.
func TestSetTierPolicyWarmAndCold(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Size: 16 << 10},
		Warm: tiermem.TierOptions{Size: 64 << 10}, Cold: tiermem.TierOptions{Size: 128 << 10}})
	values := map[string][]byte{}
	value := func(k string) []byte { // random: the cold log cannot compress it
		if values[k] == nil {
			values[k] = noise(4 << 10)
		}
		return values[k]
	}
	n := 0
	for _, p := range []tiermem.Policy{tiermem.PolicyLRU, tiermem.PolicyLFU, tiermem.PolicyFIFO, tiermem.PolicyS3FIFO,
		tiermem.PolicyAdaptive, tiermem.PolicyClock, tiermem.PolicyAuto} {
		must(t, m.SetTierPolicy(tiermem.Warm, p))
		if p != tiermem.PolicyClock {
			must(t, m.SetTierPolicy(tiermem.Cold, p))
		}
		for i := range 40 { // into full tiers: their new victims must make room
			k := fmt.Sprint("k", n)
			must(t, m.Store(k, value(k), tiermem.InTier(tiermem.Tier(1+i%2))))
			n++
		}
		if got, _ := m.TierPolicy(tiermem.Warm); got != p {
			t.Fatalf("TierPolicy(Warm) = %v, want %v", got, p)
		}
	}
	u := m.Usage()
	if u[tiermem.Glacier].Items == 0 || u[tiermem.Cold].Items == 0 {
		t.Fatalf("values did not move down through the tiers: %+v", u)
	}
	for i := range n {
		k := fmt.Sprint("k", i)
		if got, err := m.Retrieve(k); err != nil || !bytes.Equal(got, value(k)) {
			t.Fatalf("%s: %v", k, err)
		}
	}
}

func TestSetTierPolicyErrors(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: -1})
	for _, tc := range []struct {
		tier   tiermem.Tier
		policy tiermem.Policy
		want   error
	}{
		{tiermem.Hot, tiermem.PolicyClock, tiermem.ErrOptions},       // CLOCK needs a store of its own kind
		{tiermem.Cold, tiermem.PolicyClock, tiermem.ErrOptions},      // no reference bits in the cold store
		{tiermem.Glacier, tiermem.PolicyLRU, tiermem.ErrOptions},     // the last tier chooses no victims
		{tiermem.Warm, tiermem.Policy(42), tiermem.ErrOptions},       // unknown
		{tiermem.Tier(9), tiermem.PolicyLRU, tiermem.ErrUnknownTier}, // no such tier
	} {
		if err := m.SetTierPolicy(tc.tier, tc.policy); !errors.Is(err, tc.want) {
			t.Errorf("SetTierPolicy(%v, %v) = %v, want %v", tc.tier, tc.policy, err, tc.want)
		}
	}
	must(t, m.SetTierPolicy(tiermem.Glacier, tiermem.PolicyAuto)) // what it has: nothing to do
	if p, _ := m.TierPolicy(tiermem.Hot); p != tiermem.PolicyAuto {
		t.Errorf("a refused change left the hot tier's policy at %v", p)
	}
	clock := open(t, &tiermem.Options{MigrateInterval: -1, Hot: tiermem.TierOptions{Policy: tiermem.PolicyClock}})
	if err := clock.SetTierPolicy(tiermem.Hot, tiermem.PolicyLRU); !errors.Is(err, tiermem.ErrOptions) {
		t.Errorf("hot from CLOCK to LRU = %v, want ErrOptions", err)
	}
	must(t, m.Close())
	if err := m.SetTierPolicy(tiermem.Warm, tiermem.PolicyLRU); !errors.Is(err, tiermem.ErrClosed) {
		t.Errorf("SetTierPolicy after Close = %v, want ErrClosed", err)
	}
	cold, err := disk.Open(t.TempDir(), nil)
	must(t, err)
	given := open(t, &tiermem.Options{MigrateInterval: -1, Glacier: tiermem.GlacierOptions{Disabled: true}, Cold: tiermem.TierOptions{Store: cold}})
	if err := given.SetTierPolicy(tiermem.Cold, tiermem.PolicyLRU); !errors.Is(err, tiermem.ErrOptions) {
		t.Errorf("a policy on the last tier = %v, want ErrOptions", err)
	}
}

// TestSetTierPolicyUnderLoad switches every tier's policy over and over
// while goroutines store, read, move and delete with tiny budgets and the
// migration loop runs (with -race): no operation fails but with
// ErrNotFound, and every value reads back as last stored.
func TestSetTierPolicyUnderLoad(t *testing.T) {
	m := open(t, &tiermem.Options{MigrateInterval: time.Millisecond, Hot: tiermem.TierOptions{Size: 32 << 10},
		Warm: tiermem.TierOptions{Size: 64 << 10}, Cold: tiermem.TierOptions{Size: 256 << 10}})
	var stop atomic.Bool
	var wg sync.WaitGroup
	last := make([]map[string][]byte, 3)
	for w := range last {
		last[w] = map[string][]byte{}
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				k := fmt.Sprintf("w%d-%d", w, i%60)
				var err error
				switch i % 5 {
				case 0, 1:
					v := bytes.Repeat([]byte{byte(i)}, 500+i%2000)
					if err = m.Store(k, v); err == nil {
						last[w][k] = v
					}
				case 2:
					var got []byte
					if got, err = m.Retrieve(k); err == nil && !bytes.Equal(got, last[w][k]) {
						err = fmt.Errorf("%s reads %d bytes, not the %d last stored", k, len(got), len(last[w][k]))
					}
				case 3:
					err = m.Move(k, tiermem.Tier(i%4))
				case 4:
					if i%25 == 4 {
						if err = m.Delete(k); err == nil {
							delete(last[w], k)
						}
					}
				}
				if err != nil && !errors.Is(err, tiermem.ErrNotFound) {
					t.Error(err)
					return
				}
			}
		})
	}
	policies := []tiermem.Policy{tiermem.PolicyLRU, tiermem.PolicyS3FIFO, tiermem.PolicyLFU, tiermem.PolicyAuto, tiermem.PolicyFIFO, tiermem.PolicyAdaptive}
	for i := range 30 {
		p := policies[i%len(policies)]
		must(t, m.SetTierPolicy(tiermem.Tier(i%3), p))
		time.Sleep(3 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	for _, kv := range last {
		for k, v := range kv {
			if got, err := m.Retrieve(k); err != nil || !bytes.Equal(got, v) {
				t.Fatalf("%s after the switches: %d bytes, %v", k, len(got), err)
			}
		}
	}
}
