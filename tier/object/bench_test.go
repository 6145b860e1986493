package object_test

import (
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/tiermem/tiermem/tier/object"
)

var benchKeys = flag.Int("glacier.keys", 100_000, "keys BenchmarkOpen reopens")

// BenchmarkOpen reopens a local-directory store of -glacier.keys keys
// (100-byte values in 32 MiB packs): the catalog rebuilt from the index
// objects at every Open.
func BenchmarkOpen(b *testing.B) {
	dir := b.TempDir()
	s := mustOpen(b, mustDir(b, dir), &object.Options{Compression: object.ZstdFastest})
	v := make([]byte, 100)
	for i := range *benchKeys {
		copy(v, fmt.Sprintf("value %d", i))
		if _, err := s.Put(fmt.Sprintf("key-%09d", i), v, nil); err != nil {
			b.Fatal(err)
		}
	}
	mustClose(b, s)
	b.ResetTimer()
	for b.Loop() {
		s := mustOpen(b, mustDir(b, dir), nil)
		if s.Len() != int64(*benchKeys) {
			b.Fatalf("reopened %d keys of %d", s.Len(), *benchKeys)
		}
		b.StopTimer()
		mustClose(b, s)
		b.StartTimer()
	}
	b.ReportMetric(float64(*benchKeys), "keys")
}

// BenchmarkRead reads a 4 KiB value from a durable pack in a local
// directory: one ranged read of its frame, verified.
func BenchmarkRead(b *testing.B) {
	s := mustOpen(b, mustDir(b, b.TempDir()), &object.Options{PackSize: 1 << 20})
	for i := range 1000 {
		if _, err := s.Put(key(i), value(2 * i)[:min(4<<10, len(value(2*i)))], nil); err != nil {
			b.Fatal(err)
		}
	}
	mustSync(b, s)
	defer s.Close()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := get(s, key(i%1000)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkReadDuringCompact reads one key over and over while Compact
// rewrites a sparse pack of a store of 400,000 keys (100-byte values, in
// memory), and reports the longest read: compaction holds the store's
// lock while it copies a pack, and reads wait for it.
func BenchmarkReadDuringCompact(b *testing.B) {
	const keys = 400_000
	v := make([]byte, 100)
	var worst time.Duration
	for b.Loop() {
		b.StopTimer()
		s := mustOpen(b, object.NewMem(), &object.Options{PackSize: 4 << 20})
		for i := range keys {
			copy(v, fmt.Sprintf("value %d", i))
			if _, err := s.Put(fmt.Sprintf("key-%09d", i), v, nil); err != nil {
				b.Fatal(err)
			}
		}
		for i := range 45_000 { // most of the first pack (about 60,000 keys), replaced: it is sparse
			if _, err := s.Put(fmt.Sprintf("key-%09d", i), v, nil); err != nil {
				b.Fatal(err)
			}
		}
		mustSync(b, s)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-done:
					return
				default:
				}
				start := time.Now()
				if _, err := get(s, "key-000399999"); err != nil {
					b.Error(err)
					return
				}
				worst = max(worst, time.Since(start))
			}
		}()
		down := s.Stats().BytesDown
		b.StartTimer()
		if err := s.Compact(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if s.Stats().BytesDown-down < 1<<20 {
			b.Fatal("Compact read no pack: nothing was sparse")
		}
		done <- struct{}{}
		<-done
		mustClose(b, s)
		b.StartTimer()
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "max-read-ms")
}
