package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestTierDiffExpire runs the EXPIRE family, TTL, PTTL, EXPIRETIME and
// PERSIST on keys that lie in warm, cold and glacier.
func TestTierDiffExpire(t *testing.T) {
	p := newTierPair(t, nil)
	auto := []string{"k", "a", "b", "c", "d", "e"}
	p.runTiers(t, diffTiers, auto, []rstep{
		rs("TTL", "k"), rs("PTTL", "k"), rs("EXPIRETIME", "k"), rs("EXPIRE", "k", "10"), rs("PERSIST", "k"),
		rs("SET", "k", "v"), rs("TTL", "k"), rs("PTTL", "k"), rs("EXPIRETIME", "k"), rs("PEXPIRETIME", "k"), rs("PERSIST", "k"),
		rs("EXPIRE", "k", "100"), rnear("TTL", "k"), rnear("PTTL", "k"), rs("PERSIST", "k"), rs("TTL", "k"), rs("PERSIST", "k"),
		rs("PEXPIRE", "k", "100000"), rnear("TTL", "k"), rs("EXPIREAT", "k", "4102444800"), rs("EXPIRETIME", "k"),
		rs("PEXPIRETIME", "k"), rs("PEXPIREAT", "k", "4102444800123"), rs("PEXPIRETIME", "k"), rs("EXPIRETIME", "k"),
		rs("GET", "k"),
		rs("SET", "a", "v"), rs("EXPIRE", "a", "100", "NX"), rs("EXPIRE", "a", "200", "NX"), rnear("TTL", "a"),
		rs("EXPIRE", "a", "50", "GT"), rs("EXPIRE", "a", "300", "GT"), rnear("TTL", "a"), rs("EXPIRE", "a", "400", "LT"),
		rs("EXPIRE", "a", "30", "LT"), rnear("TTL", "a"), rs("EXPIRE", "a", "60", "XX"), rnear("TTL", "a"),
		rs("PEXPIRE", "a", "90000", "GT"), rs("PEXPIREAT", "a", "4102444800000", "GT"), rs("EXPIRETIME", "a"),
		rs("EXPIREAT", "a", "4102444800", "LT"), rs("EXPIREAT", "a", "4102444799", "LT"), rs("EXPIRETIME", "a"),
		rs("SET", "b", "v"), rs("EXPIRE", "b", "60", "XX"), rs("EXPIRE", "b", "60", "GT"), rs("EXPIRE", "b", "60", "LT"),
		rnear("TTL", "b"), rs("EXPIRE", "b", "-1"), rs("EXISTS", "b"), rs("GET", "b"),
		rs("SET", "c", "v"), rs("PEXPIREAT", "c", "1"), rs("EXISTS", "c"), rs("SET", "d", "v"), rs("EXPIREAT", "d", "-5"),
		rs("EXISTS", "d"), rs("SET", "e", "v"), rs("EXPIRE", "e", "0", "NX"), rs("EXISTS", "e"),
		rs("SET", "e", "v", "EX", "100"), rs("EXPIRE", "e", "0", "XX"), rs("EXISTS", "e"),
		rs("SET", "e", "v", "EX", "100"), rs("EXPIRE", "e", "0", "GT"), rs("EXISTS", "e"), rs("EXPIRE", "e", "-10", "LT"), rs("EXISTS", "e"),
	})
}

// TestTierDiffTTLSurvivesMoves moves a key with a TTL down through every
// tier and back up, reading its TTL, expiry and value after each move.
func TestTierDiffTTLSurvivesMoves(t *testing.T) {
	p := newTierPair(t, nil)
	check := []rstep{rnear("TTL", "k"), rs("PEXPIRETIME", "k"), rs("GET", "k"), rs("EXPIRETIME", "p"), rs("TTL", "n"), rs("GET", "n")}
	steps := []rstep{rs("SET", "k", "v", "PXAT", "4102444800123"), rs("SET", "p", "v", "EXAT", "4102444800"), rs("SET", "n", "v")}
	steps = append(steps, check...)
	for _, tier := range []string{"warm", "cold", "glacier", "cold", "warm", "hot", "glacier", "hot"} {
		steps = append(steps, rstep{args: []string{"TIER.MOVE", "k", tier}, move: true})
		steps = append(steps, check...)
	}
	// Each move step names its own tier: the route is run by hand.
	{
		want, got := dial(t, p.redis), dial(t, p.tm)
		want.do("FLUSHALL")
		got.do("FLUSHALL")
		for i, st := range steps {
			if st.move {
				for _, k := range []string{"k", "p", "n"} {
					moveTo(t, got, k, st.args[2], true)
				}
				continue
			}
			w, g := run(want, step{args: st.args, how: st.how}), run(got, step{args: st.args, how: st.how})
			if !same(st.how, w, g) {
				t.Errorf("step %d %q:\n redis:   %q\n tiermem: %q", i, st.args, w, g)
			}
		}
	}
}

// TestTierDiffExpiredReadsAbsent stores keys with a short TTL, moves
// them to a lower tier before they expire, waits past their expiry, and
// sends each key one command: every one must see no key, as Redis does.
func TestTierDiffExpiredReadsAbsent(t *testing.T) {
	p := newTierPair(t, nil)
	cmds := [][]string{
		{"GET", "%s"}, {"EXISTS", "%s"}, {"TYPE", "%s"}, {"TTL", "%s"}, {"PTTL", "%s"}, {"EXPIRETIME", "%s"},
		{"STRLEN", "%s"}, {"GETRANGE", "%s", "0", "-1"}, {"OBJECT", "ENCODING", "%s"}, {"OBJECT", "REFCOUNT", "%s"},
		{"OBJECT", "FREQ", "%s"}, {"OBJECT", "IDLETIME", "%s"}, {"GETDEL", "%s"},
		{"GETEX", "%s"}, {"GETEX", "%s", "EX", "100"}, {"GETEX", "%s", "PERSIST"}, {"PERSIST", "%s"},
		{"EXPIRE", "%s", "100"}, {"EXPIRE", "%s", "100", "NX"}, {"EXPIRE", "%s", "100", "LT"}, {"MGET", "%s", "%s"},
		{"DEL", "%s"}, {"UNLINK", "%s"}, {"TOUCH", "%s"},
		{"APPEND", "%s", "x"}, {"SETRANGE", "%s", "2", "x"}, {"SETRANGE", "%s", "0", ""}, {"INCR", "%s"}, {"INCRBYFLOAT", "%s", "1.5"},
		{"SET", "%s", "new", "NX"}, {"SET", "%s", "new", "XX"}, {"SET", "%s", "new", "GET"}, {"SET", "%s", "new", "KEEPTTL"},
		{"GETSET", "%s", "new"}, {"SETNX", "%s", "new"}, {"MSETNX", "%s", "new", "zz", "1"},
		{"RENAME", "%s", "dst"}, {"RENAMENX", "%s", "dst"}, {"COPY", "%s", "dst"},
		{"RENAMENX", "live", "%s"}, {"COPY", "live", "%s"},
	}
	var steps []rstep
	keys := make([]string, len(cmds))
	for i := range cmds {
		keys[i] = fmt.Sprintf("x%02d", i)
		steps = append(steps, rs("SET", keys[i], "12", "EX", "1000"))
	}
	// The keys get their short TTL once they lie in the tier, so that slow
	// moves cannot outlast it.
	steps = append(steps, mv(keys...), rs("SET", "live", "L"))
	for _, k := range keys {
		steps = append(steps, rs("PEXPIRE", k, "500"))
	}
	steps = append(steps, rstep{hook: func(t *testing.T, tm *client) {
		for _, k := range keys {
			if r := string(tm.do("TIER.GET", k)); !strings.Contains(r, "\r\n"+tierOfTest(t)+"\r\n") {
				t.Errorf("after PEXPIRE, %s lies in %q", k, r)
			}
		}
	}}, pause(1200*time.Millisecond))
	for i, c := range cmds {
		args := make([]string, len(c))
		for j, a := range c {
			args[j] = a
			if a == "%s" {
				args[j] = keys[i]
			}
		}
		steps = append(steps, rs(args...))
		// What the command left: the key, its TTL and the destination.
		steps = append(steps, rs("GET", keys[i]), rs("TTL", keys[i]), rs("GET", "dst"), rs("TTL", "dst"), rs("DEL", "dst", "zz"))
		if c[1] != "%s" { // restore live
			steps = append(steps, rs("SET", "live", "L"))
		}
	}
	p.runTiers(t, append([]string{"hot"}, diffTiers...), nil, steps)
}

// TestTierDiffExpiredKeyspace: keys expired in a lower tier are absent
// from DBSIZE, KEYS, SCAN and RANDOMKEY, and INFO keyspace counts them
// neither in keys nor in expires (Redis's active expiry has removed them).
func TestTierDiffExpiredKeyspace(t *testing.T) {
	p := newTierPair(t, nil)
	p.runTiers(t, append([]string{"hot"}, diffTiers...), nil, []rstep{
		rs("SET", "gone1", "v", "PX", "1000"), rs("SET", "gone2", "v", "PX", "1000"), rs("SET", "stay", "v", "EX", "100"),
		mv("gone1", "gone2", "stay"), pause(1800 * time.Millisecond), rs("DBSIZE"), rs("RANDOMKEY"), rsorted("KEYS", "*"),
		rs("INFO", "keyspace"), rscan("SCAN", "0"), rscan("SCAN", "0", "MATCH", "gone*"), rscan("SCAN", "0", "TYPE", "string"), rsorted("KEYS", "*"),
		rs("RANDOMKEY"), rs("DBSIZE"), rs("EXISTS", "gone1", "gone2", "stay"),
	})
}

// TestTierDiffPromotionKeepsTTL reads keys that lie in warm, cold and
// glacier often enough to be promoted, runs migration passes (TIER.MIGRATE,
// tiermem alone), and checks that each key, wherever it went, keeps its
// value and exact expiry.
func TestTierDiffPromotionKeepsTTL(t *testing.T) {
	p := newTierPair(t, nil)
	var steps []rstep
	keys := []string{"a", "b", "c", "d"}
	vals := []string{"small", strings.Repeat("m", 70000), tierRandom(1<<20+3, 5), "12345"}
	for i, k := range keys {
		steps = append(steps, rs("SET", k, vals[i], "PXAT", fmt.Sprint(4102444800000+int64(i)*1111)))
	}
	steps = append(steps, rs("SET", "e", "no ttl"), mv("a", "b", "c", "d", "e"))
	tierOf := map[string]string{}
	migrate := rstep{hook: func(t *testing.T, tm *client) {
		for _, k := range append(keys, "e") {
			for range 6 {
				tm.do("GET", k)
			}
		}
		for range 3 {
			if r := string(tm.do("TIER.MIGRATE")); r != "+OK\r\n" {
				t.Errorf("TIER.MIGRATE = %q", r)
			}
		}
		for _, k := range append(keys, "e") {
			tierOf[k] = string(tm.do("TIER.GET", k))
		}
		t.Logf("after reads and passes: %q", tierOf)
	}}
	for range 2 {
		steps = append(steps, migrate)
		for _, k := range append(keys, "e") {
			steps = append(steps, rs("PEXPIRETIME", k), rs("STRLEN", k), rs("GETRANGE", k, "-4", "-1"))
		}
	}
	p.runTiers(t, diffTiers, nil, steps)
}
