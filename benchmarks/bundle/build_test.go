package bundlebench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tiermem/tiermem/bundle"
)

// buildResult is what a build child reports.
type buildResult struct {
	Keys    int
	Seconds float64
	PeakRSS int64 // VmHWM: the most resident memory the process ever had
	Bytes   int64 // of the file written
}

// buildChild builds (mode "build") or only writes sequentially with bufio
// (mode "write", the I/O floor) BUNDLE_KEYS shuffled records at path, and
// prints a buildResult.
func buildChild(mode, path string) error {
	n, err := strconv.Atoi(os.Getenv(keysEnv))
	if err != nil {
		return err
	}
	start := time.Now()
	if mode == "build" {
		_, err = bundle.Build(path, shuffled(n), nil)
	} else {
		err = writePlain(path, n)
	}
	if err != nil {
		return err
	}
	r := buildResult{Keys: n, Seconds: time.Since(start).Seconds()}
	if r.PeakRSS, err = procField("self", "status", "VmHWM"); err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	r.Bytes = st.Size()
	return json.NewEncoder(os.Stdout).Encode(r)
}

// writePlain writes the records one after the other, length-prefixed, and
// syncs: what any file format costs at least.
func writePlain(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	for k, v := range shuffled(n) {
		w.WriteByte(byte(len(k)))
		w.Write(k)
		w.WriteByte(byte(len(v)))
		w.Write(v)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Sync()
}

// runBuildChild runs a build child and returns its result.
func runBuildChild(b *testing.B, mode string, n int) buildResult {
	path := filepath.Join(b.TempDir(), mode)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, pathEnv+"="+path, keysEnv+"="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("%s child: %v", mode, err)
	}
	var r buildResult
	if err := json.Unmarshal(out, &r); err != nil {
		b.Fatalf("%s child printed %q: %v", mode, out, err)
	}
	return r
}

// BenchmarkBuildLarge builds a bundle of -bundle.buildkeys shuffled records
// in a process of its own, with the default options, and reports its speed
// and peak resident memory; the baseline writes the same records to a plain
// file. Skipped unless -bundle.buildkeys is set.
func BenchmarkBuildLarge(b *testing.B) {
	n := *buildKeys
	if n == 0 {
		b.Skip("set -bundle.buildkeys to run it")
	}
	for _, mode := range []string{"build", "write"} {
		b.Run(mode, func(b *testing.B) {
			var r buildResult
			for b.Loop() {
				r = runBuildChild(b, mode, n)
			}
			b.ReportMetric(float64(r.Keys)/r.Seconds, "keys/s")
			b.ReportMetric(float64(r.PeakRSS)/(1<<20), "peak-rss-MiB")
			b.ReportMetric(float64(r.Bytes)/float64(r.Keys), "file-bytes/key")
			fmt.Fprintf(os.Stderr, "%s %d keys: %.1f s, peak RSS %d MiB, %d bytes\n", mode, r.Keys, r.Seconds, r.PeakRSS>>20, r.Bytes)
		})
	}
}
