package tiermem

import (
	"fmt"

	"github.com/tiermem/tiermem/tier"
)

// Tier names one of the four memory tiers, fastest first. Its String method
// returns "hot", "warm", "cold" or "glacier".
type Tier = tier.Level

// The tiers.
const (
	Hot     = tier.Hot
	Warm    = tier.Warm
	Cold    = tier.Cold
	Glacier = tier.Glacier
)

// ParseTier returns the tier named s ("hot", "warm", "cold" or "glacier",
// case-insensitive), or an error wrapping ErrUnknownTier.
func ParseTier(s string) (Tier, error) {
	t, err := tier.ParseLevel(s)
	if err != nil {
		return 0, fmt.Errorf("%w: %q (want hot, warm, cold or glacier)", ErrUnknownTier, s)
	}
	return t, nil
}
