package web

import "testing"

// TestMatches: entity-tag lists as RFC 9110 §13.1.1 and §13.1.2 read them.
func TestMatches(t *testing.T) {
	tag := []byte(`"00000000000000ab"`)
	cases := []struct {
		field         string
		found         bool
		strong, loose bool // If-Match's answer, If-None-Match's
	}{
		{`*`, true, true, true},
		{`*`, false, false, false},
		{`"00000000000000ab"`, true, true, true},
		{`"00000000000000ab"`, false, false, false},
		{`W/"00000000000000ab"`, true, false, true}, // a weak tag never matches strongly
		{`"x", "00000000000000ab"`, true, true, true},
		{`"x",,  W/"y" ,"00000000000000ab"`, true, true, true},
		{`"x", "y"`, true, false, false},
		{`00000000000000ab`, true, false, false}, // no quotes: not an entity tag
		{`"x", bogus, "00000000000000ab"`, true, false, false},
		{``, true, false, false},
	}
	for _, c := range cases {
		tagOf := func() []byte { return tag }
		if got := matches(c.field, c.found, tagOf, true); got != c.strong {
			t.Errorf("If-Match %s (found %v) = %v, want %v", c.field, c.found, got, c.strong)
		}
		if got := matches(c.field, c.found, tagOf, false); got != c.loose {
			t.Errorf("If-None-Match %s (found %v) = %v, want %v", c.field, c.found, got, c.loose)
		}
	}
}
