package server_test

import (
	"strings"
	"testing"
)

// TestTierDiffKeyNames stores keys of every kind of bytes (NUL, CRLF,
// invalid UTF-8, path-like, 1 to 65535 bytes) in warm, cold and glacier,
// and reads, renames, scans and deletes them there.
func TestTierDiffKeyNames(t *testing.T) {
	p := newTierPair(t, nil)
	names := []string{"a\x00b", "\xff\xfe\x00", "k\r\nk", "../../etc/passwd", "a/b/c", "*?[", " ", "k:1", "\x00",
		strings.Repeat("L", 1000), strings.Repeat("M", 65535), strings.Repeat("\x00", 300)}
	var steps []rstep
	for i, k := range names {
		v := k + "=" + string(rune('A'+i))
		steps = append(steps, rs("SET", k, v, "EX", "1000"), mv(k), rs("GET", k), rs("STRLEN", k), rnear("TTL", k), rs("EXISTS", k))
	}
	// The replies are split at CRLF to compare them in any order: "[^k]*"
	// leaves out the key that holds one.
	steps = append(steps, rs("DBSIZE"), rscan("SCAN", "0", "MATCH", "[^k]*"), rsorted("KEYS", "[^k]*"), rscan("SCAN", "0", "MATCH", "a*"),
		rsorted("KEYS", `\*\?\[`), rsorted("KEYS", "?"))
	for i, k := range names {
		dst := k + "\x00renamed"
		if len(dst) > 65535 {
			dst = k[1:] + "R"
		}
		steps = append(steps, mv(k), rs("APPEND", k, "+"), mv(k), rs("RENAME", k, dst), mvIf(dst), rs("GET", dst), rnear("TTL", dst),
			rs("EXISTS", k), mvIf(dst), rs("COPY", dst, k), mvIf(k), rs("GET", k))
		if i%2 == 0 {
			steps = append(steps, mvIf(k, dst), rs("DEL", k, dst, k))
		} else {
			steps = append(steps, mvIf(k, dst), rs("UNLINK", dst, k, "nosuch"))
		}
	}
	steps = append(steps, rs("DBSIZE"), rs("SCAN", "0"))
	p.runTiers(t, diffTiers, nil, steps)
}
