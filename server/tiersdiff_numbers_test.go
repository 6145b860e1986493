package server_test

import "testing"

// TestTierDiffNumbers runs INCR, DECR, INCRBY, DECRBY and INCRBYFLOAT
// on numbers that lie in warm, cold and glacier, overflow and TTLs
// included.
func TestTierDiffNumbers(t *testing.T) {
	p := newTierPair(t, nil)
	auto := []string{"n", "m", "f", "t", "s"}
	p.runTiers(t, diffTiers, auto, []rstep{
		rs("SET", "n", "10"), rs("INCR", "n"), rs("GET", "n"), rs("DECR", "n"), rs("INCRBY", "n", "100"), rs("DECRBY", "n", "1000"),
		rs("GET", "n"), rs("OBJECT", "ENCODING", "n"), rs("STRLEN", "n"), rs("INCRBY", "n", "x"),
		rs("SET", "n", "9223372036854775806"), rs("INCR", "n"), rs("INCR", "n"), rs("GET", "n"), rs("INCRBY", "n", "-1"),
		rs("SET", "n", "-9223372036854775807"), rs("DECR", "n"), rs("DECR", "n"), rs("DECRBY", "n", "-9223372036854775808"),
		rs("GET", "n"), rs("INCRBY", "n", "9223372036854775807"), rs("GET", "n"),
		rs("SET", "n", "abc"), rs("INCR", "n"), rs("SET", "n", " 1"), rs("INCR", "n"), rs("SET", "n", "01"), rs("INCR", "n"),
		rs("SET", "n", "1\x00"), rs("INCR", "n"), rs("SET", "n", ""), rs("INCR", "n"), rs("GET", "n"),
		rs("SET", "n", "99999999999999999999"), rs("INCR", "n"), rs("SET", "n", "-0"), rs("INCR", "n"),
		rs("SET", "n", "12345678901234567890123456789012345678901234567890"), rs("INCR", "n"), rs("INCRBYFLOAT", "n", "1"),
		rs("INCRBY", "m", "9223372036854775807"), rs("INCRBY", "m", "1"), rs("INCR", "m"), rs("GET", "m"),
		rs("SET", "t", "5", "EX", "100"), rs("INCR", "t"), rnear("TTL", "t"), rs("INCRBYFLOAT", "t", "0.5"), rnear("TTL", "t"),
		rs("DECRBY", "t", "3"), rnear("TTL", "t"), rs("GET", "t"),
		rs("SET", "f", "10.5"), rs("INCRBYFLOAT", "f", "0.1"), rs("INCRBYFLOAT", "f", "-5.0e3"), rs("GET", "f"),
		rs("INCRBYFLOAT", "f", "abc"), rs("INCRBYFLOAT", "f", "inf"), rs("SET", "f", "1e308"), rs("INCRBYFLOAT", "f", "1e308"),
		rs("GET", "f"), rs("SET", "f", "3.0"), rs("INCRBYFLOAT", "f", "1.0"), rs("SET", "f", "5.0e3"), rs("INCRBYFLOAT", "f", "2.0e2"),
		rs("SET", "f", "abc"), rs("INCRBYFLOAT", "f", "1"), rs("SET", "f", "1.1"), rs("INCRBYFLOAT", "f", "2.2"),
		rs("OBJECT", "ENCODING", "f"), rs("INCR", "f"),
		rs("SET", "s", "7"), rs("APPEND", "s", "3"), rs("INCR", "s"), rs("SETRANGE", "s", "0", "9"), rs("INCR", "s"), rs("GET", "s"),
	})
}
