package glob_test

import (
	"testing"

	"github.com/tiermem/tiermem/internal/glob"
)

// TestHostileRangesWithHighBytesMatchRedis: Match matches what Redis on
// x86-64 matches, where stringmatchlen compares class ranges as signed C
// chars: a byte of 0x80 or more is negative, so "[a-\xff]" is the range
// -1..'a' and does not hold "b". The expectations are what redis-server
// 7.0.15 (x86-64) answers to SET key, KEYS pattern.
func TestHostileRangesWithHighBytesMatchRedis(t *testing.T) {
	for _, c := range []struct {
		pattern, key string
		redis        bool
	}{
		{"[a-\xff]", "b", false},
		{"[\x80-[", "a", false},
		{"[baz-\x80", "\xff", true},
		{"[*-\x80", "\x00", true},
		{"[^\x80-^", "]", false},
	} {
		if got := glob.Match(c.pattern, c.key); got != c.redis {
			t.Errorf("Match(%q, %q) = %v; Redis (x86-64) KEYS answers %v", c.pattern, c.key, got, c.redis)
		}
	}
}
