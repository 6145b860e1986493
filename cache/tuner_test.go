package cache

import (
	"slices"
	"testing"
)

// TestStaleMainSpace: a tuner that simulates every request reports the
// policy's main space stale when the policy hits far less than the
// simulation of its tuning, at most once an epoch.
func TestStaleMainSpace(t *testing.T) {
	tu := newTuner(100)
	if tu.rate != 1 {
		t.Fatalf("rate %d for 100 keys, want 1", tu.rate)
	}
	var stales []int
	for i := range 40 * minEpoch {
		// 50 keys in a loop: every simulation holds them all; the policy
		// says it missed every one.
		if _, _, _, stale := tu.observe(hashKey(uint64(i%50)), false); stale {
			stales = append(stales, i)
		}
	}
	if len(stales) < 2 {
		t.Fatalf("stale at requests %v, though the policy hit nothing while its simulation hit every request", stales)
	}
	for i := 1; i < len(stales); i++ {
		if stales[i]-stales[i-1] < tu.epoch() {
			t.Fatalf("stale at requests %v: twice within an epoch (%d requests)", stales, tu.epoch())
		}
	}
	// The policy hitting as its simulation does is never stale.
	tu = newTuner(100)
	for i := range 40 * minEpoch {
		if _, _, _, stale := tu.observe(hashKey(uint64(i%50)), i >= 50); stale {
			t.Fatalf("stale at request %d, though the policy hit as its simulation did", i)
		}
	}
}

// TestStaleNeedsFullSimulation: a sampling tuner models the policy only
// statistically and never reports it stale.
func TestStaleNeedsFullSimulation(t *testing.T) {
	tu := newTuner(1 << 16)
	if tu.rate == 1 {
		t.Fatal("a tuner for 65,536 keys does not sample")
	}
	for i := range 200 * minEpoch {
		if _, _, _, stale := tu.observe(hashKey(uint64(i%20000)), false); stale {
			t.Fatalf("a sampling tuner reported the policy stale at request %d", i)
		}
	}
}

// TestFlipNeedsOwnHits: at an epoch's end the admission rule changes only when
// the best simulation with the other rule beats the policy's own hits by
// flipMargin; a change of window with the same rule needs no such margin.
func TestFlipNeedsOwnHits(t *testing.T) {
	noTies := slices.Index(candidateTunings, tuning{0.01, false})
	ties := slices.Index(candidateTunings, tuning{0.01, true})
	other := slices.Index(candidateTunings, tuning{0.05, false})
	for _, c := range []struct {
		name      string
		challenge int
		own       float64
		want      int
	}{
		{"ties, own hits close", ties, 990, noTies},
		{"ties, own hits far under", ties, 900, ties},
		{"same rule, own hits close", other, 990, other},
	} {
		tu := newTuner(100)
		tu.best = noTies
		tu.ownScore = c.own / scoreDecay // endEpoch decays it once, adding no hits
		for i := range tu.score {
			tu.score[i] = 0
		}
		tu.hits[noTies] = 950
		tu.hits[c.challenge] = 1000
		if got, _ := tu.endEpoch(); got != candidateTunings[c.want] {
			t.Errorf("%s: tuning %v, want %v", c.name, got, candidateTunings[c.want])
		}
	}
}

// TestRetuneKeepsStaged: applying a tuning, even the one in force (the policy
// does at the end of every epoch), leaves a key pushed out of the window
// waiting for its duel instead of letting it into the main space.
func TestRetuneKeepsStaged(t *testing.T) {
	s := newShadow(10, tuning{0, false})
	for k := range uint64(10) {
		s.request(k, 10)
	}
	n := &node[uint64]{key: 10, weight: 1}
	s.nodes[10] = n
	s.add(n) // the window's previous key, 9, is staged
	staged := s.staging.front()
	if staged == nil || staged.key != 9 {
		t.Fatalf("staged %v, want key 9", staged)
	}
	s.tune(tuning{0, false})
	if staged.queue != inStaging {
		t.Fatalf("retuning moved the staged key to queue %d without a duel", staged.queue)
	}
	// Every key was seen once: the staged key ties its victim and loses.
	if v := s.victim(); v != staged {
		t.Fatalf("victim %d, want the staged key 9, which ties without ties admitted", v.key)
	}
}
