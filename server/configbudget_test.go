package server_test

import (
	"strings"
	"testing"
)

// TestConfigSetRefusedBudgetSetsNothing: CONFIG SET sets every pair or
// none, as Redis does: a budget the Manager refuses (warm over the space it
// reserved at Open, a glacier tier the Manager has not) is refused before
// the pairs before it are applied.
func TestConfigSetRefusedBudgetSetsNothing(t *testing.T) {
	addr, _, _ := startTiermem(t, nil)
	c := dial(t, addr)
	before := string(c.do("CONFIG", "GET", "maxclients"))
	for _, bad := range []string{"tiermem-warm-budget 1GiB", "tiermem-glacier-budget 1MiB"} {
		args := append([]string{"CONFIG", "SET", "maxclients", "3"}, strings.Fields(bad)...)
		r := string(c.do(args...))
		if !strings.HasPrefix(r, "-ERR") {
			t.Fatalf("%v = %q, want an error", args, r)
		}
		if after := string(c.do("CONFIG", "GET", "maxclients")); after != before {
			t.Errorf("%v failed (%q) but maxclients changed: %q, was %q", args, strings.TrimSpace(r), after, before)
		}
		c.do("CONFIG", "SET", "maxclients", "10000")
	}
}

// TestConfigSetFailedBudgetIsSetBack: a budget the Manager takes but cannot
// reach (what the tier holds is pinned) fails the CONFIG SET, and a failed
// CONFIG SET leaves every setting as it was, the failing one too: a client
// that reads the error must not find the budget changed.
func TestConfigSetFailedBudgetIsSetBack(t *testing.T) {
	addr, _, _ := startTiermem(t, nil)
	c := dial(t, addr)
	before := string(c.do("CONFIG", "GET", "tiermem-hot-budget"))
	if r := string(c.do("SET", "k", strings.Repeat("v", 256<<10))); r != "+OK\r\n" {
		t.Fatalf("SET = %q", r)
	}
	if r := string(c.do("TIER.PIN", "k")); strings.HasPrefix(r, "-") {
		t.Fatalf("TIER.PIN = %q", r)
	}
	if r := string(c.do("TIER.GET", "k")); !strings.Contains(r, "hot") {
		t.Fatalf("TIER.GET = %q, want hot", r)
	}
	r := string(c.do("CONFIG", "SET", "tiermem-hot-budget", "1kb"))
	if !strings.HasPrefix(r, "-ERR") {
		t.Fatalf("CONFIG SET below what is pinned = %q, want an error", r)
	}
	if after := string(c.do("CONFIG", "GET", "tiermem-hot-budget")); after != before {
		t.Errorf("CONFIG SET failed (%q) but the budget changed: %q, was %q", strings.TrimSpace(r), after, before)
	}
}
