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
