package server_test

import (
	"testing"
)

// TestTierDiffCopiesStayInStep keeps a copy of each key in a lower tier
// (TIER.COPY, the original kept above), changes the key with each write
// command, and then moves it to the copy's tier (or, with a copy in
// every tier, reads it as it lies): what the key reads afterwards must be
// what it was changed to, as Redis reads it, never the older copy.
func TestTierDiffCopiesStayInStep(t *testing.T) {
	p := newTierPair(t, nil)
	// copies sends TIER.COPY key tier to tiermem alone.
	copies := func(keys ...string) rstep {
		return rstep{hook: func(t *testing.T, tm *client) {
			tier := tierOfTest(t)
			for _, k := range keys {
				if r := string(tm.do("TIER.COPY", k, tier)); r != "+OK\r\n" {
					t.Errorf("TIER.COPY %q %s = %q", k, tier, r)
				}
			}
		}}
	}
	var steps []rstep
	writes := [][]string{
		{"EXPIRE", "%s", "100"}, {"PEXPIREAT", "%s", "4102444800123"}, {"PERSIST", "%s"}, {"GETEX", "%s", "EX", "200"},
		{"GETEX", "%s", "PERSIST"}, {"APPEND", "%s", "+app"}, {"SETRANGE", "%s", "0", "X"}, {"INCR", "%s"},
		{"INCRBYFLOAT", "%s", "0.5"}, {"SET", "%s", "new"}, {"SET", "%s", "new", "KEEPTTL"}, {"SET", "%s", "new", "EX", "300"},
		{"GETSET", "%s", "new"}, {"MSET", "%s", "new"}, {"SET", "%s", "new", "XX", "GET"}, {"INCRBY", "%s", "-5"},
	}
	for i, w := range writes {
		k := "c" + string(rune('a'+i))
		args := make([]string, len(w))
		for j, a := range w {
			args[j] = a
			if a == "%s" {
				args[j] = k
			}
		}
		steps = append(steps, rs("SET", k, "41", "EX", "1000"))
		if w[0] == "PERSIST" || w[0] == "GETEX" && w[2] == "PERSIST" {
			steps = append(steps, rs("SET", k, "41", "EX", "1000"))
		}
		steps = append(steps, copies(k), rs(args...), rs("GET", k), rnear("TTL", k), mv(k), rs("GET", k), rnear("TTL", k),
			rnear("PEXPIRETIME", k), rs("STRLEN", k))
	}
	// A copy and then a rename, a copy over, a delete, an expiry.
	steps = append(steps,
		rs("SET", "r", "rv", "EX", "1000"), copies("r"), rs("RENAME", "r", "r2"), rs("EXISTS", "r"), rs("GET", "r2"),
		rnear("TTL", "r2"), mv("r2"), rs("GET", "r2"), rs("SET", "r", "other"), copies("r"), rs("COPY", "r2", "r", "REPLACE"),
		rs("GET", "r"), rnear("TTL", "r"), mv("r"), rs("GET", "r"), rnear("TTL", "r"),
		rs("SET", "d", "dv"), copies("d"), rs("DEL", "d"), rs("EXISTS", "d"), rs("GET", "d"), rs("DBSIZE"),
		rs("SET", "x", "xv", "EX", "1000"), copies("x"), rs("EXPIRE", "x", "0"), rs("GET", "x"), rs("EXISTS", "x"), rs("TTL", "x"),
		rs("SET", "g", "gv"), copies("g"), rs("GETDEL", "g"), rs("GET", "g"), rs("EXISTS", "g"),
		rs("SET", "p", "pv", "EX", "1000"), copies("p"), rs("PEXPIRE", "p", "1"), pause(50e6), rs("GET", "p"), rs("EXISTS", "p"),
		rs("DBSIZE"),
	)
	p.runTiers(t, diffTiers, nil, steps)
}
