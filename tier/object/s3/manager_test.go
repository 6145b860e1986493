package s3_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tiermem/tiermem"
	"github.com/tiermem/tiermem/internal/s3test"
	"github.com/tiermem/tiermem/tier/object"
)

// spillValue returns the value stored under key i: 2–20 KB, derived from i.
func spillValue(i int) []byte {
	rng := rand.New(rand.NewPCG(uint64(i), 3))
	v := make([]byte, 2000+rng.IntN(18000))
	for j := range v {
		v[j] = byte('a' + rng.IntN(8)) // text-like: compresses
	}
	return v
}

// TestManagerGlacierOnS3: a Manager whose glacier tier is a prefix of the
// real S3 server, named by URL alone (this package's import registers the
// scheme), spills a cold tier far smaller than the data into it; every
// value reads back, from glacier too, and a new Manager over a fresh
// directory (the local disk lost) finds every glacier key in the bucket.
func TestManagerGlacierOnS3(t *testing.T) {
	url := s3test.URL(t)
	opts := &tiermem.Options{
		Hot: tiermem.TierOptions{Size: 64 << 10}, Warm: tiermem.TierOptions{Size: 128 << 10},
		Cold: tiermem.TierOptions{Size: 512 << 10}, MigrateInterval: -1,
		Glacier: tiermem.GlacierOptions{URL: url, Object: &object.Options{PackSize: 256 << 10}},
	}
	m, err := tiermem.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	for i := range n {
		if err := m.Store(fmt.Sprint("k", i), spillValue(i)); err != nil {
			t.Fatal(err)
		}
	}
	inGlacier := checkManager(t, m, n)
	if inGlacier == 0 {
		t.Fatalf("nothing reached glacier: %+v", m.Usage())
	}
	if err := m.VerifyGlacier(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	// The cold directory is gone with its machine: glacier's keys are not.
	m, err = tiermem.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got := m.Usage()[tiermem.Glacier].Items; got != int64(inGlacier) {
		t.Fatalf("a new Manager over the bucket finds %d glacier keys, want %d", got, inGlacier)
	}
	for i := range n {
		key := fmt.Sprint("k", i)
		if tr, err := m.Tier(key); err != nil || tr != tiermem.Glacier {
			continue
		}
		got, err := m.Retrieve(key)
		if err != nil || !bytes.Equal(got, spillValue(i)) {
			t.Fatalf("%s from the bucket alone: %d bytes, %v", key, len(got), err)
		}
	}
}

// checkManager reads k0…k(n-1) back and returns how many glacier served.
func checkManager(t *testing.T, m *tiermem.Manager, n int) int {
	t.Helper()
	inGlacier := 0
	for i := range n {
		key := fmt.Sprint("k", i)
		tr, err := m.Tier(key)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if tr == tiermem.Glacier {
			inGlacier++
		}
		got, err := m.Retrieve(key)
		if err != nil || !bytes.Equal(got, spillValue(i)) {
			t.Fatalf("%s from %v: %d bytes, %v", key, tr, len(got), err)
		}
	}
	return inGlacier
}

// BenchmarkManagerDemote is the Manager's own path from cold to glacier on
// the S3 server: the data set stored in cold, a pass that marks it (the
// cold tier's idleness is by write age, sweep to sweep), then the timed
// pass, in which every value is idle past cold's DemoteAfter, so that it
// copies them out of cold in batches, uploads each batch as a pack and its
// index, waits for the upload, and deletes them from cold. Compare with
// BenchmarkRawPut, in the same run.
func BenchmarkManagerDemote(b *testing.B) {
	values := dataset(*benchMB)
	for _, c := range []object.Compression{object.ZstdBetter, object.NoCompression} {
		b.Run(c.String(), func(b *testing.B) {
			b.SetBytes(totalBytes(values))
			var puts, raw, stored float64
			for b.Loop() {
				b.StopTimer()
				cb := &counting{Bucket: s3test.Open(b, s3test.URL(b))}
				m := managerOverBucket(b, cb, c)
				for i, v := range values {
					if err := m.Store(fmt.Sprint("v", i), v, tiermem.InTier(tiermem.Cold)); err != nil {
						b.Fatal(err)
					}
				}
				if err := m.Migrate(); err != nil { // the cold tier's first sweep: it marks what is written now
					b.Fatal(err)
				}
				b.StartTimer()
				if err := m.Migrate(); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if u := m.Usage(); u[tiermem.Cold].Items != 0 || u[tiermem.Glacier].Items != int64(len(values)) {
					b.Fatalf("after the pass: %+v", u)
				}
				puts, raw = float64(cb.puts.Load()), float64(totalBytes(values))
				stored = float64(cb.putBytes.Load())
				m.Close()
				b.StartTimer()
			}
			b.ReportMetric(puts/(raw/(8<<20)), "PUTs/8MiB")
			b.ReportMetric(stored/raw, "stored/raw")
		})
	}
}

// managerOverBucket opens a Manager in a fresh directory whose glacier
// tier is an object store over b, with compression c, and whose cold
// values are idle after a nanosecond.
func managerOverBucket(b *testing.B, bk object.Bucket, c object.Compression) *tiermem.Manager {
	st, err := object.Open(bk, &object.Options{Compression: c})
	if err != nil {
		b.Fatal(err)
	}
	m, err := tiermem.Open(b.TempDir(), &tiermem.Options{
		Cold: tiermem.TierOptions{Size: 4 << 30, DemoteAfter: time.Nanosecond}, MigrateInterval: -1,
		Glacier: tiermem.GlacierOptions{Store: st},
	})
	if err != nil {
		b.Fatal(err)
	}
	return m
}
