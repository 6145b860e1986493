package server_test

import (
	"math/rand/v2"
	"testing"

	"github.com/tiermem/tiermem"
)

// BenchmarkSetLarge SETs a 4 MiB value over one connection into each
// memory tier and into cold (the tiers above it too small for it): MB/s and
// the Go memory allocated per SET, client and server together.
func BenchmarkSetLarge(b *testing.B) {
	value := make([]byte, 4<<20) // random: it does not compress
	rand.NewChaCha8([32]byte{5}).Read(value)
	set := encode("SET", "big", string(value))
	for _, tier := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		b.Run(tier.String(), func(b *testing.B) {
			addr, _, m := startManager(b, b.TempDir(), optionsFor(tier), nil)
			c := dial(b, addr)
			b.ReportAllocs()
			b.SetBytes(int64(len(value)))
			for b.Loop() {
				c.send(set)
				drain(b, c.br, 1)
			}
			b.StopTimer()
			if got, err := m.Tier("big"); err != nil || got != tier {
				b.Fatalf("the value is in %v (%v), want %v", got, err, tier)
			}
		})
	}
}

// optionsFor returns testOptions where a value of a few MiB goes to tier
// first: the tiers above it are too small for it.
func optionsFor(tier tiermem.Tier) *tiermem.Options {
	o := testOptions()
	o.Hot.Size, o.Warm.Size = 64<<20, 64<<20
	if tier > tiermem.Hot {
		o.Hot.Size = 1 << 20
	}
	if tier > tiermem.Warm {
		o.Warm.Size = 1 << 20
	}
	return o
}
