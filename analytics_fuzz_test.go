package tiermem_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/tiermem/tiermem"
)

// FuzzReadAnalytics: ReadAnalytics never panics, and what it accepts
// WriteAnalytics writes back into a document that reads as the same
// samples. The seed corpus is testdata/analytics.
func FuzzReadAnalytics(f *testing.F) {
	const maxFuzzSeed = 4 << 10
	files, _ := filepath.Glob("testdata/analytics/*.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) > maxFuzzSeed {
			continue // run.json, 45 KB: the fuzzer then mutates 45 KB inputs and managed 7 of them a minute
		}
		f.Add(b)
	}
	f.Add([]byte(`{"format":"tiermem-analytics","version":1,"tiers":["hot"],"samples":[]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		samples, err := tiermem.ReadAnalytics(bytes.NewReader(doc))
		if err != nil {
			return
		}
		tiers := 1 // a file without samples keeps no trace of its tiers
		if len(samples) > 0 {
			tiers = len(samples[0].Tiers)
		}
		var b bytes.Buffer
		if err := tiermem.WriteAnalyticsSamples(&b, samples, tiers); err != nil {
			t.Fatalf("writing back what was read: %v", err)
		}
		again, err := tiermem.ReadAnalytics(&b)
		if err != nil {
			t.Fatalf("reading back what was written: %v\n%s", err, b.Bytes())
		}
		if !sameSamples(samples, again) {
			t.Fatalf("read back %+v, want %+v", again, samples)
		}
	})
}
