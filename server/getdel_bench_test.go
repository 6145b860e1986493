package server_test

import (
	"math/rand/v2"
	"testing"

	"github.com/tiermem/tiermem"
)

// BenchmarkGetDelLarge GETDELs a 4 MiB value from each tier over one
// connection, the value stored again before each (not timed): MB/s and
// the Go memory allocated per GETDEL, client and server together.
func BenchmarkGetDelLarge(b *testing.B) {
	value := make([]byte, 4<<20) // random: it does not compress, and cold keeps it raw
	rand.NewChaCha8([32]byte{6}).Read(value)
	getdel := encode("GETDEL", "big")
	for _, tier := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		b.Run(tier.String(), func(b *testing.B) {
			addr, _, m := startManager(b, b.TempDir(), optionsFor(tier), nil)
			c := dial(b, addr)
			b.ReportAllocs()
			b.SetBytes(int64(len(value)))
			for b.Loop() {
				b.StopTimer()
				if err := m.Store("big", value, tiermem.InTier(tier)); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				c.send(getdel)
				drain(b, c.br, 1)
			}
		})
	}
}

// BenchmarkGetExLarge is GETEX key EX 3600 of a 4 MiB value in each tier
// over one connection: MB/s and the Go memory allocated per GETEX, client
// and server together. A warm or cold value over 1 MiB is opened where it
// lies as its TTL changes (UpdateHeaderViewLarge), not copied.
func BenchmarkGetExLarge(b *testing.B) {
	value := make([]byte, 4<<20) // random: it does not compress, and cold keeps it raw
	rand.NewChaCha8([32]byte{7}).Read(value)
	getex := encode("GETEX", "big", "EX", "3600")
	for _, tier := range []tiermem.Tier{tiermem.Hot, tiermem.Warm, tiermem.Cold} {
		b.Run(tier.String(), func(b *testing.B) {
			addr, _, m := startManager(b, b.TempDir(), optionsFor(tier), nil)
			if err := m.Store("big", value, tiermem.InTier(tier)); err != nil {
				b.Fatal(err)
			}
			c := dial(b, addr)
			b.ReportAllocs()
			b.SetBytes(int64(len(value)))
			for b.Loop() {
				c.send(getex)
				drain(b, c.br, 1)
			}
		})
	}
}
