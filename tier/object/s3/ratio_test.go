package s3_test

import (
	"bytes"
	"flag"
	"fmt"
	"os/exec"
	"testing"

	"github.com/tiermem/tiermem/tier/object"
)

var ratioMB = flag.Int("glacier.ratio-mb", 8, "megabytes of values BenchmarkRatio compresses")

// BenchmarkRatio compares the share of its size each value keeps when a
// Store compresses it (every Compression level) with what the zstd
// command at -19 keeps, value by value, on the demotion data set. It
// needs no server; it skips where the zstd command is missing.
func BenchmarkRatio(b *testing.B) {
	if _, err := exec.LookPath("zstd"); err != nil {
		b.Skip("the zstd command is not installed")
	}
	values := dataset(*ratioMB)
	var raw, z19 int
	for _, v := range values {
		cmd := exec.Command("zstd", "-19", "-c", "-q", "--no-check")
		cmd.Stdin = bytes.NewReader(v)
		out, err := cmd.Output()
		if err != nil {
			b.Fatal(err)
		}
		raw, z19 = raw+len(v), z19+len(out)
	}
	for _, c := range []object.Compression{object.ZstdBest, object.ZstdBetter, object.ZstdFastest} {
		b.Run(c.String(), func(b *testing.B) {
			var stored int64
			for b.Loop() {
				stored = storedBytes(b, values, c)
			}
			b.ReportMetric(float64(stored)/float64(raw), "stored/raw")
			b.ReportMetric(float64(z19)/float64(raw), "zstd19/raw")
			b.ReportMetric(float64(z19)/float64(stored), "ratio/zstd19")
		})
	}
}

// storedBytes puts values into a store in memory (a Dir in a temporary
// directory, never synced) and returns the frame bytes Put charged.
func storedBytes(b *testing.B, values [][]byte, c object.Compression) int64 {
	d, err := object.OpenDir(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	st, err := object.Open(d, &object.Options{Compression: c, PackSize: 64 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for i, v := range values {
		if _, err := st.Put(fmt.Sprint("v", i), v, nil); err != nil {
			b.Fatal(err)
		}
	}
	return st.Used()
}
