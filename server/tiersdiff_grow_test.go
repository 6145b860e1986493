package server_test

import (
	"strings"
	"testing"
)

// TestTierDiffGrowPastTierBudget grows or replaces a small value that
// lies in a tier with one larger than that tier's whole budget (APPEND,
// SETRANGE, SET with options, GETSET, INCRBYFLOAT's neighbours), with
// room enough below. Redis (maxmemory 0) stores the larger value; so
// must tiermem, whose values go to whichever tier holds them: a plain SET
// of the same value succeeds.
func TestTierDiffGrowPastTierBudget(t *testing.T) {
	o := tierPairOptions()
	o.Hot.Size, o.Warm.Size, o.Cold.Size = 256<<10, 512<<10, 1<<20
	p := newTierPair(t, o)
	big := strings.Repeat("g", 1536<<10) // over hot, warm and cold's budgets
	var steps []rstep
	for _, c := range [][]string{
		{"SET", "%s", big}, // the control: a plain SET
		{"APPEND", "%s", big}, {"SETRANGE", "%s", "1572864", "x"}, {"SET", "%s", big, "XX"}, {"SET", "%s", big, "KEEPTTL"},
		{"SET", "%s", big, "GET"}, {"SET", "%s", big, "EX", "1000"}, {"GETSET", "%s", big}, {"SETEX", "%s", "1000", big},
		{"MSET", "%s", big},
	} {
		k := "k" + c[0]
		if c[0] == "SET" {
			k += strings.Join(c[3:], "")
		}
		args := make([]string, len(c))
		for j, a := range c {
			args[j] = a
			if a == "%s" {
				args[j] = k
			}
		}
		steps = append(steps, rs("SET", k, "small", "EX", "1000"), mv(k), rstep{args: args, how: shortReply}, rs("STRLEN", k),
			rnear("TTL", k), rs("GETRANGE", k, "-3", "-1"))
	}
	p.runTiers(t, []string{"hot", "warm", "cold", "glacier"}, nil, steps)
}

// shortReply compares replies exactly, as exact does; the name says that
// the reply (an old value) is short.
const shortReply = exact
