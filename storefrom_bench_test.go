package tiermem_test

import (
	"bytes"
	"testing"

	"github.com/tiermem/tiermem"
)

// BenchmarkStoreFromHot64MiB streams a 64 MiB value into the hot tier under
// a new key (the last one deleted each time), beside a Store of the same
// value (one allocation, one copy: the tier's) and a plain copy of it into
// a new buffer (the floor: one allocation, one memcpy). StoreFrom reads
// straight into the tier's memory, so it should cost what the copy costs.
func BenchmarkStoreFromHot64MiB(b *testing.B) {
	const size = 64 << 20
	value := noise(size)
	open := func(b *testing.B) *tiermem.Manager {
		m, err := tiermem.Open(b.TempDir(), &tiermem.Options{MigrateInterval: -1,
			Hot: tiermem.TierOptions{Size: 1 << 30}, Warm: tiermem.TierOptions{Size: 64 << 20}, Cold: tiermem.TierOptions{Size: 1 << 30}})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { m.Delete("v"); m.Close() })
		return m
	}
	b.Run("StoreFrom", func(b *testing.B) {
		m := open(b)
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			if err := m.StoreFrom("v", bytes.NewReader(value), size, tiermem.InTier(tiermem.Hot)); err != nil {
				b.Fatal(err)
			}
			m.Delete("v")
		}
	})
	b.Run("Store", func(b *testing.B) {
		m := open(b)
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			if err := m.Store("v", value, tiermem.InTier(tiermem.Hot)); err != nil {
				b.Fatal(err)
			}
			m.Delete("v")
		}
	})
	b.Run("copy", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		var keep []byte
		for b.Loop() {
			keep = append([]byte(nil), value...)
		}
		_ = keep
	})
}
