package server_test

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// tierRandom returns n bytes from a fixed seed: values that do not
// compress.
func tierRandom(n int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, seed+1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return string(b)
}

// TestTierDiffLargeValues runs GET, STRLEN, GETRANGE, SETRANGE, APPEND,
// GETEX, GETSET, GETDEL and COPY on values of 1 to 9 MiB, compressible
// and not, that lie in warm, cold and glacier (each command's key is
// moved there before it).
func TestTierDiffLargeValues(t *testing.T) {
	p := newTierPair(t, nil)
	l1 := tierRandom(1<<20+17, 1)                      // just over SmallValueMax, random
	l5 := tierRandom(5<<20, 2)                         // random
	l8 := strings.Repeat("0123456789abcdef", 8<<20/16) // 8 MiB, compresses
	more := strings.Repeat("m", 1<<20)                 // an APPEND of 1 MiB
	p.runTiers(t, diffTiers, nil, moved(
		rs("SET", "l1", l1), rs("SET", "l5", l5), rs("SET", "l8", l8),
		rs("STRLEN", "l1"), rs("STRLEN", "l5"), rs("STRLEN", "l8"), rs("GET", "l1"), rs("GET", "l5"), rs("GET", "l8"),
		rs("GETRANGE", "l8", "0", "99"), rs("GETRANGE", "l8", "-100", "-1"), rs("GETRANGE", "l8", "4194300", "4194400"),
		rs("GETRANGE", "l8", "8388600", "9000000"), rs("GETRANGE", "l8", "8388608", "8388700"), rs("GETRANGE", "l1", "-1048600", "10"),
		rs("GETRANGE", "l5", "2097151", "2097151"), rs("GETRANGE", "l5", "-2097153", "-2097152"), rs("GETRANGE", "l5", "100", "50"),
		rs("GETRANGE", "l5", "-1", "-2"), rs("GETRANGE", "l5", "0", "-1048577"), rs("GETRANGE", "l1", "1048000", "-1"),
		rs("OBJECT", "ENCODING", "l5"), rs("TYPE", "l8"), rs("EXISTS", "l1", "l5", "l8"),
		rs("SETRANGE", "l1", "1048570", "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"), rs("STRLEN", "l1"), rs("GETRANGE", "l1", "-40", "-1"),
		rs("SETRANGE", "l5", "100", "hello"), rs("GETRANGE", "l5", "95", "110"), rs("STRLEN", "l5"),
		rs("SETRANGE", "l8", "9000000", "tail"), rs("STRLEN", "l8"), rs("GETRANGE", "l8", "8388600", "8388700"),
		rs("GETRANGE", "l8", "-10", "-1"), rs("SETRANGE", "l8", "536870912", "x"), rs("SETRANGE", "l8", "536870911", ""),
		rs("SETRANGE", "l8", "536870900", "0123456789abcdefghijkl"), rs("STRLEN", "l8"),
		rs("APPEND", "l5", "appended"), rs("STRLEN", "l5"), rs("GETRANGE", "l5", "-20", "-1"), rs("APPEND", "l1", more),
		rs("STRLEN", "l1"), rs("GETRANGE", "l1", "1048560", "1048600"),
		rs("SETRANGE", "pad", "3145728", "x"), rs("STRLEN", "pad"), rs("GET", "pad"), rs("GETRANGE", "pad", "3145720", "-1"),
		rs("SET", "l5", l5, "EX", "1000"), rs("GETEX", "l5", "EX", "100"), rnear("TTL", "l5"), rs("GETEX", "l5", "PERSIST"),
		rs("TTL", "l5"), rs("INCR", "l5"), rs("INCRBYFLOAT", "l5", "1"),
		rs("COPY", "l5", "c5"), rs("GET", "c5"), rs("APPEND", "c5", "!"), rs("STRLEN", "l5"), rs("STRLEN", "c5"),
		rs("GETSET", "l8", "small"), rs("GET", "l8"), rs("SET", "l1", l1), rs("SET", "l1", "s2", "GET"), rs("GET", "l1"), rs("SET", "l1", l1),
		rs("GETDEL", "l1"), rs("GETDEL", "l1"), rs("GETDEL", "c5"), rs("MGET", "l5", "l1", "l8"),
	))
}

// TestTierDiffCompressedWarm runs the string commands on large and
// small values that a compressing warm tier (Warm.Compress) holds.
func TestTierDiffCompressedWarm(t *testing.T) {
	o := tierPairOptions()
	o.Warm.Compress = true
	p := newTierPair(t, o)
	v := strings.Repeat("compress me ", 3<<20/12)
	p.runTiers(t, []string{"warm"}, nil, moved(
		rs("SET", "c", v, "EX", "1000"), rs("SET", "s", strings.Repeat("ab", 3000)), rs("STRLEN", "c"), rs("GET", "c"),
		rs("GETRANGE", "c", "-20", "-1"), rs("GETRANGE", "c", "1048570", "1048600"), rs("GETRANGE", "s", "5990", "7000"),
		rnear("TTL", "c"), rs("OBJECT", "ENCODING", "c"), rs("SETRANGE", "c", "1048575", "XY"), rs("GETRANGE", "c", "1048570", "1048580"),
		rs("APPEND", "c", "end"), rs("GETRANGE", "c", "-5", "-1"), rs("APPEND", "s", "z"), rs("GET", "s"), rs("GETEX", "c", "PERSIST"),
		rs("TTL", "c"), rs("MGET", "s", "c"), rs("COPY", "c", "d"), rs("STRLEN", "d"), rs("GETDEL", "c"), rs("GETSET", "s", "x"),
	))
}
