package server_test

import (
	"strings"
	"testing"
)

// TestTierDiffRenameCopy runs RENAME, RENAMENX and COPY with sources and
// destinations in warm, cold and glacier, TTLs carried and replaced.
func TestTierDiffRenameCopy(t *testing.T) {
	p := newTierPair(t, nil)
	auto := []string{"a", "b", "c", "d", "e", "f", "t", "u", "big", "big2"}
	p.runTiers(t, diffTiers, auto, []rstep{
		rs("SET", "a", "1"), rs("RENAME", "a", "b"), rs("GET", "a"), rs("GET", "b"), rs("RENAME", "b", "b"), rs("RENAMENX", "b", "b"),
		rs("SET", "c", "2"), rs("RENAMENX", "b", "c"), rs("GET", "b"), rs("GET", "c"), rs("RENAMENX", "b", "d"), rs("GET", "d"),
		rs("EXISTS", "b"), rs("SET", "c", "cv", "EX", "100"), rs("RENAME", "d", "c"), rs("GET", "c"), rs("TTL", "c"),
		rs("SET", "t", "tv", "EX", "100"), rs("RENAME", "t", "u"), rnear("TTL", "u"), rs("TTL", "t"), rs("GET", "u"),
		rs("SET", "e", "ev"), rs("RENAMENX", "u", "e"), rs("RENAME", "u", "e"), rnear("TTL", "e"), rs("GET", "e"),
		rs("COPY", "e", "e"), rs("COPY", "e", "f"), rnear("TTL", "f"), rs("GET", "f"), rs("COPY", "e", "f"),
		rs("SET", "f", "fv"), rs("COPY", "e", "f"), rs("GET", "f"), rs("TTL", "f"), rs("COPY", "e", "f", "REPLACE"), rs("GET", "f"),
		rnear("TTL", "f"), rs("PERSIST", "e"), rs("COPY", "e", "f", "REPLACE"), rs("TTL", "f"), rs("COPY", "nosuch", "f"),
		rs("COPY", "nosuch", "f", "REPLACE"), rs("GET", "f"),
		rs("SET", "a", "x"), rs("APPEND", "f", "+"), rs("GET", "e"), rs("GET", "f"), rs("COPY", "f", "a", "REPLACE"),
		rs("SETRANGE", "a", "0", "Z"), rs("GET", "a"), rs("GET", "f"), rs("INCRBY", "a", "1"),
		rs("SET", "big", strings.Repeat("q", 70000)), rs("COPY", "big", "big2"), rs("STRLEN", "big2"), rs("APPEND", "big2", "!"),
		rs("STRLEN", "big"), rs("RENAME", "big", "big2"), rs("STRLEN", "big2"), rs("EXISTS", "big"), rs("GETRANGE", "big2", "-3", "-1"),
		rs("DBSIZE"),
	})
}

// TestTierDiffTypeObjectScan runs TYPE, OBJECT ENCODING, SCAN with
// MATCH and TYPE, and KEYS on keys in the lower tiers.
func TestTierDiffTypeObjectScan(t *testing.T) {
	p := newTierPair(t, nil)
	auto := []string{"i", "e", "r", "z", "user:1", "user:2", "other"}
	p.runTiers(t, diffTiers, auto, []rstep{
		rs("SET", "i", "123"), rs("SET", "e", "hello"), rs("SET", "r", strings.Repeat("r", 45)), rs("SET", "z", "-0"),
		rs("MSET", "user:1", "a", "user:2", "12345678901234567890", "other", strings.Repeat("o", 44)),
		rs("TYPE", "i"), rs("TYPE", "nosuch"), rs("OBJECT", "ENCODING", "i"), rs("OBJECT", "REFCOUNT", "i"), rs("OBJECT", "ENCODING", "e"),
		rs("OBJECT", "ENCODING", "r"), rs("OBJECT", "ENCODING", "z"), rs("OBJECT", "ENCODING", "user:2"), rs("OBJECT", "ENCODING", "other"),
		rs("OBJECT", "REFCOUNT", "e"), rs("OBJECT", "ENCODING", "nosuch"),
		rscan("SCAN", "0"), rscan("SCAN", "0", "MATCH", "user:*"), rscan("SCAN", "0", "TYPE", "string"), rscan("SCAN", "0", "TYPE", "hash"),
		rscan("SCAN", "0", "MATCH", "*e*", "TYPE", "string", "COUNT", "1"), rsorted("KEYS", "*"), rsorted("KEYS", "user:?"),
		rs("DBSIZE"),
	})
}

// TestTierDiffMixedRenameCopy renames and copies between a key in the
// subtest's tier and one left in hot, both ways, with and without TTLs.
func TestTierDiffMixedRenameCopy(t *testing.T) {
	p := newTierPair(t, nil)
	p.runTiers(t, diffTiers, nil, []rstep{
		rs("SET", "low", "L", "EX", "1000"), rs("SET", "hot", "H"), mv("low"), rs("RENAME", "hot", "low"), rs("GET", "low"),
		rs("TTL", "low"), rs("EXISTS", "hot"), rs("DBSIZE"),
		rs("SET", "low", "L"), rs("SET", "hot", "H", "EX", "1000"), mv("low"), rs("RENAME", "low", "hot"), rs("GET", "hot"),
		rs("TTL", "hot"), rs("EXISTS", "low"),
		rs("SET", "low", "L", "EX", "1000"), rs("SET", "hot", "H"), mv("low"), rs("COPY", "hot", "low", "REPLACE"), rs("GET", "low"),
		rs("TTL", "low"), rs("SET", "low", "L2"), mv("low"), rs("COPY", "low", "hot", "REPLACE"), rs("GET", "hot"), rs("TTL", "hot"),
		rs("SET", "low", "L", "PX", "300"), mv("low"), pause(800e6), rs("SET", "hot", "H"), rs("RENAMENX", "hot", "low"),
		rs("GET", "low"), rs("TTL", "low"), rs("SET", "low", "L", "PX", "300"), mv("low"), pause(800e6), rs("SET", "hot", "H2"),
		rs("COPY", "hot", "low"), rs("GET", "low"), rs("TTL", "low"), rs("SET", "low", "L", "PX", "300"), mv("low"), pause(800e6),
		rs("RENAME", "hot", "low"), rs("GET", "low"), rs("TTL", "low"), rs("DBSIZE"),
	})
}
