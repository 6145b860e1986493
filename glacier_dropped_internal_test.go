package tiermem

import "testing"

// TestGlacierDroppedStaysSeenWhileASyncRuns: a key whose glacier copy was
// dropped stays dropped for wasDropped while a sync that took it runs,
// and after that sync fails, until one succeeds: a durable removal of the
// key in the meantime must sync glacier first (bug 5 of review 2: a
// Delete returned, and a crash brought the older glacier value back).
func TestGlacierDroppedStaysSeenWhileASyncRuns(t *testing.T) {
	var g groupSync
	if g.wasDropped("k") {
		t.Fatal("a key never dropped reads as dropped")
	}
	g.noteDropped("k")
	first := g.takeDropped()
	second := g.takeDropped() // a second sync begins: k is in flight in the first only
	if !g.wasDropped("k") {
		t.Fatal("a dropped key reads as synced while the sync that took it runs")
	}
	g.settle(second, true)
	if !g.wasDropped("k") {
		t.Fatal("a dropped key reads as synced after another sync, which had not taken it, succeeded")
	}
	g.settle(first, false)
	if !g.wasDropped("k") {
		t.Fatal("a dropped key reads as synced after the sync that took it failed")
	}
	again := g.takeDropped()
	if _, ok := again["k"]; !ok {
		t.Fatal("the next sync does not take the key a failed sync gave back")
	}
	g.settle(again, true)
	if g.wasDropped("k") || len(g.inFlight) != 0 || len(g.dropped) != 0 {
		t.Fatalf("after a sync that succeeded: dropped %v, in flight %v", g.dropped, g.inFlight)
	}
}
