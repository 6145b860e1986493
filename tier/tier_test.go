package tier_test

import (
	"testing"

	"github.com/tiermem/tiermem/tier"
)

func TestParseLevel(t *testing.T) {
	for _, c := range []struct {
		in   string
		want tier.Level
		ok   bool
	}{
		{"hot", tier.Hot, true}, {"WARM", tier.Warm, true}, {"Cold", tier.Cold, true},
		{"glacier", tier.Glacier, true}, {"", 0, false}, {"lukewarm", 0, false},
	} {
		got, err := tier.ParseLevel(c.in)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("ParseLevel(%q) = %v, %v", c.in, got, err)
		}
		if c.ok && got.String() != map[tier.Level]string{0: "hot", 1: "warm", 2: "cold", 3: "glacier"}[got] {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
	if s := tier.Level(9).String(); s != "tier(9)" {
		t.Errorf("unknown level prints %q", s)
	}
}
