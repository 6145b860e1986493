package server_test

import (
	"strings"
	"testing"
)

// TestTierDiffStrings runs the string commands on values that lie in
// warm, cold and glacier: each key is moved there before every command.
func TestTierDiffStrings(t *testing.T) {
	p := newTierPair(t, nil)
	auto := []string{"k", "t", "e", "b", "n", "new", "bin\x00key"}
	p.runTiers(t, diffTiers, auto, []rstep{
		rs("SET", "k", "Hello World"), rs("GET", "k"), rs("STRLEN", "k"), rs("TYPE", "k"),
		rs("GETRANGE", "k", "0", "4"), rs("GETRANGE", "k", "-5", "-1"), rs("GETRANGE", "k", "-1", "-5"),
		rs("GETRANGE", "k", "5", "1"), rs("GETRANGE", "k", "0", "100"), rs("GETRANGE", "k", "-100", "2"),
		rs("GETRANGE", "k", "20", "30"), rs("GETRANGE", "k", "-100", "-50"), rs("GETRANGE", "k", "10", "10"),
		rs("GETRANGE", "k", "11", "-1"), rs("GETRANGE", "k", "-1", "-1"), rs("GETRANGE", "k", "0", "-100"),
		rs("GETRANGE", "k", "-9223372036854775808", "9223372036854775807"), rs("GETRANGE", "k", "x", "1"),
		rs("SETRANGE", "k", "6", "Redis"), rs("GET", "k"), rs("SETRANGE", "k", "20", "!"), rs("GET", "k"), rs("STRLEN", "k"),
		rs("SETRANGE", "k", "0", ""), rs("SETRANGE", "k", "100", ""), rs("GET", "k"), rs("SETRANGE", "k", "-1", "x"),
		rs("SETRANGE", "k", "536870911", "xx"), rs("SETRANGE", "k", "536870912", ""), rs("SETRANGE", "k", "9223372036854775807", "x"),
		rs("GET", "k"), rs("SETRANGE", "new", "3", "abc"), rs("GET", "new"), rs("SETRANGE", "new", "0", "\x00\xff"), rs("GET", "new"),
		rs("APPEND", "k", "xyz"), rs("GET", "k"), rs("APPEND", "k", ""), rs("STRLEN", "k"),
		rs("SET", "e", ""), rs("GET", "e"), rs("STRLEN", "e"), rs("GETRANGE", "e", "0", "-1"), rs("GETRANGE", "e", "-1", "0"),
		rs("APPEND", "e", "a"), rs("GET", "e"), rs("SET", "e", ""), rs("SETRANGE", "e", "0", ""), rs("EXISTS", "e"),
		rs("SETRANGE", "e", "2", "z"), rs("GET", "e"),
		rs("SET", "bin\x00key", "bin\x00\r\nvalue\xff"), rs("GET", "bin\x00key"), rs("GETRANGE", "bin\x00key", "3", "6"),
		rs("APPEND", "bin\x00key", "\x00\x00"), rs("GET", "bin\x00key"),
		rs("SET", "k", "v1", "NX"), rs("SET", "k", "v2", "XX"), rs("GET", "k"), rs("SET", "k", "v3", "GET"),
		rs("SET", "k", "v4", "NX", "GET"), rs("SET", "k", "v5", "XX", "GET"), rs("GET", "k"),
		rs("SET", "t", "tv", "EX", "100"), rs("SET", "t", "tw", "KEEPTTL"), rnear("TTL", "t"), rs("GET", "t"),
		rs("SET", "t", "tx", "KEEPTTL", "GET"), rnear("TTL", "t"), rs("SET", "t", "ty", "XX", "KEEPTTL"), rnear("TTL", "t"),
		rs("SET", "t", "tz", "GET"), rs("TTL", "t"), rs("SET", "t", "tv", "EX", "100"), rs("SET", "t", "tq"), rs("TTL", "t"),
		rs("SET", "t", "tv", "PX", "100000"), rs("SET", "t", "tw", "XX", "EX", "200", "GET"), rnear("TTL", "t"),
		rs("GETSET", "k", "gs1"), rs("GETSET", "k", "gs2"), rs("SET", "t", "tv", "EX", "100"), rs("GETSET", "t", "tw"), rs("TTL", "t"),
		rs("GETDEL", "k"), rs("GETDEL", "k"), rs("EXISTS", "k"),
		rs("SET", "k", "v"), rs("GETEX", "k"), rs("TTL", "k"), rs("GETEX", "k", "EX", "100"), rnear("TTL", "k"),
		rs("GETEX", "k"), rnear("TTL", "k"), rs("GETEX", "k", "PERSIST"), rs("TTL", "k"), rs("GETEX", "k", "PERSIST"),
		rs("GETEX", "k", "PX", "100000"), rnear("PTTL", "k"), rs("GETEX", "k", "EXAT", "4102444800"), rs("EXPIRETIME", "k"),
		rs("GETEX", "k", "PXAT", "4102444800123"), rs("PEXPIRETIME", "k"), rs("GETEX", "k", "EX", "0"), rs("GETEX", "k", "KEEPTTL"),
		rs("GETEX", "k", "EXAT", "1"), rs("GET", "k"), rs("EXISTS", "k"),
		rs("SET", "k", "v"), rs("GETEX", "k", "PXAT", "1"), rs("GET", "k"),
		rs("SET", "b", strings.Repeat("b", 20000)), rs("GETEX", "b", "EX", "100"), rnear("TTL", "b"), rs("GETDEL", "b"),
		rs("SET", "b", strings.Repeat("c", 20000)), rs("GETSET", "b", "small"), rs("GET", "b"),
		rs("SET", "b", strings.Repeat("d", 20000)), rs("SET", "b", "x", "GET"), rs("GET", "b"),
	})
}

// TestTierDiffMulti runs MGET, MSET, MSETNX, EXISTS, DEL and UNLINK
// on keys in the lower tiers, repeated keys included.
func TestTierDiffMulti(t *testing.T) {
	p := newTierPair(t, nil)
	auto := []string{"a", "b", "c", "d", "e"}
	p.runTiers(t, diffTiers, auto, []rstep{
		rs("MSET", "a", "1", "b", "2"), rs("MGET", "a", "b", "c", "a"), rs("MSETNX", "c", "3", "a", "9"), rs("MGET", "a", "c"),
		rs("MSETNX", "c", "3", "d", "4"), rs("MGET", "c", "d"), rs("MSET", "a", "x", "a", "y"), rs("GET", "a"),
		rs("MSETNX", "e", "1", "e", "2"), rs("GET", "e"),
		rs("EXISTS", "a", "a", "b", "zz", "a"), rs("DEL", "a", "a", "zz"), rs("EXISTS", "a"), rs("UNLINK", "b", "b", "c"),
		rs("EXISTS", "b", "c", "d"), rs("TOUCH", "d", "d", "zz"), rs("DEL", "d", "e", "d"), rs("DBSIZE"),
	})
}
