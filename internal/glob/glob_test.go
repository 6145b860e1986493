package glob_test

import (
	"testing"

	"github.com/tiermem/tiermem/internal/glob"
)

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", false}, {"*", "anything", true}, {"", "", true}, {"", "a", false},
		{"h?llo", "hello", true}, {"h?llo", "hllo", false}, {"h*llo", "hllo", true},
		{"h*llo", "heeeello", true}, {"h[ae]llo", "hallo", true}, {"h[ae]llo", "hillo", false},
		{"h[^e]llo", "hallo", true}, {"h[^e]llo", "hello", false}, {"h[a-b]llo", "hbllo", true},
		{"h[b-a]llo", "hallo", true}, {"h[a-b]llo", "hcllo", false}, {`h\*llo`, "h*llo", true},
		{`h\*llo`, "hello", false}, {"a*b*c", "aXbYc", true}, {"a*b*c", "aXbY", false},
		{"[abc", "a", true}, {"[abc", "d", false}, {`[\]]`, "]", true}, {"a\\", "a\\", true},
		{"**a", "ba", true}, {"a**", "a", true}, {"[", "[", false}, {"x[", "x[", false},
		{"user:*", "user:", true}, {"*:1*", "order:1", true},
	} {
		if got := glob.Match(c.pattern, c.s); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

// FuzzMatch checks that no pattern panics or runs away, and that any
// string, each byte escaped, is a pattern that matches it. Its seeds in
// testdata/fuzz/FuzzMatch are classes, ranges, escapes and backtracking.
func FuzzMatch(f *testing.F) {
	f.Add("a*b[c-d]?\\e", "axbcze")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		glob.Match(pattern, s)
		if !glob.Match(escape(s), s) {
			t.Errorf("Match(%q, %q) = false, want true", escape(s), s)
		}
	})
}

// escape returns the pattern that matches s alone: each byte escaped.
func escape(s string) string {
	b := make([]byte, 0, 2*len(s))
	for i := range len(s) {
		b = append(b, '\\', s[i])
	}
	return string(b)
}
