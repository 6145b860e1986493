package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// run executes the tiermem command line with args and returns its output
// (standard output and error together).
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&out)
	err := root.Execute()
	return out.String(), err
}

// TestDemoPrintsTheSeedOutput runs the examples at 1/100 of their size and
// checks the lines the memories-dev document prints, with the sizes scaled.
func TestDemoPrintsTheSeedOutput(t *testing.T) {
	t.Parallel()
	out, err := run(t, "demo", "--scale", "0.01", "--wait", "2s", "--dir", t.TempDir())
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	for _, want := range []string{
		"Data shape: (100, 100)",
		"Hot memory usage: 0.10%", "Warm memory usage: 0.00%", "Cold memory usage: 0.00%",
		"Archived 'random_matrix_1' to glacier memory", "read back intact: true",
		"Stored 1MB array with key 'data_0' in hot memory", // 362×362 float64: 0.9998 MB
		"Stored 4.99MB array with key 'data_4' in hot memory",
		"Hot memory usage: 18.7",
		"Waiting for automatic migration...",
		"'data_0' is now in hot memory", "'data_1' is now in hot memory",
		"'data_2' is now in warm memory", "'data_3' is now in warm memory", "'data_4' is now in warm memory",
		"Created snapshot at ", "Snapshot size: 0.38 MB", "Data was successfully cleared", "Restored from snapshot",
		"Retrieved matrix_0, mean value: 0.00", "Retrieved matrix_4, mean value: ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}

// TestDemoWaitZeroMigratesAtOnce checks that --wait 0 runs the migration
// pass right away rather than never.
func TestDemoWaitZeroMigratesAtOnce(t *testing.T) {
	out, err := run(t, "demo", "--scale", "0.001", "--wait", "0", "--dir", t.TempDir())
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	for _, want := range []string{
		"'data_0' is now in hot memory", "'data_1' is now in hot memory",
		"'data_2' is now in warm memory", "'data_3' is now in warm memory", "'data_4' is now in warm memory",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo --wait 0 output lacks %q:\n%s", want, out)
		}
	}
}

func TestDemoRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--scale", "2"}, {"--scale", "0"}, {"--wait", "-1s"}} {
		if _, err := run(t, append([]string{"demo"}, args...)...); err == nil {
			t.Errorf("demo %v accepted", args)
		}
	}
}

// runtimeMiB is what the demo takes beside the data that --scale shrinks:
// the Go runtime and the binary (about 13 MiB), the basic-usage example's
// 8 MB matrix (stored, archived to glacier and read back), and the
// snapshot and analytics examples. Measured by the demo's own VmHWM at
// --scale 0.05: 144 or 157–159 MiB alone (two modes: where the collector's
// cycles fall), and past 160 MiB in the high mode while the whole suite ran
// beside it (the collector lags on a loaded machine). 65 leaves room for
// that, and the test takes the lower of two runs, and it still fails a
// demo that holds one more array copy (25 MiB at --scale 0.05: 169 MiB in
// the low mode). The rusage of the child, which this test read before,
// folded the test process's own peak into the demo's (vfork, then exec)
// and swung from 123 to 334 MiB with what the parent held.
const runtimeMiB = 65

// TestDemoFitsTheRAMItStates builds the tiermem binary (without the race
// detector, whose shadow memory would triple the figure), runs the demo at
// 1/20 of its size in it and checks the peak RSS against demoPeakMiB, scaled,
// plus runtimeMiB.
func TestDemoFitsTheRAMItStates(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads the peak RSS from Linux's rusage")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "tiermem")
	build := exec.Command("go", "build", "-race=false", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const scale = 0.05
	limit := int64(scale*demoPeakMiB+runtimeMiB) << 20
	// The peak is bimodal, 144 or 159 MiB on an idle machine (where the
	// collector's cycles fall against the examples' largest allocations):
	// the lower of two runs says what the demo holds.
	var peak int64
	for run := range 2 {
		demo := exec.Command(bin, "demo", "--scale", "0.05", "--wait", "1s", "--dir", t.TempDir())
		demo.Env = append(os.Environ(), peakRSSEnv+"=1")
		out, err := demo.CombinedOutput()
		if err != nil {
			t.Fatalf("demo: %v\n%s", err, out)
		}
		if p := reportedPeak(t, string(out)); run == 0 || p < peak {
			peak = p
		}
		t.Logf("run %d: peak RSS %d MiB at --scale %v (limit %d MiB)", run, peak>>20, scale, limit>>20)
		if peak <= limit {
			break
		}
	}
	if peak > limit {
		t.Errorf("demo --scale %v peaked at %d MiB of RSS, over the %d MiB it may take (%s at full scale)",
			scale, peak>>20, limit>>20, demoRAM)
	}
}

// peakRSS returns the peak resident memory of an exited process in bytes.
// Linux reports it in KiB as syscall.Rusage's Maxrss, a field that other
// systems lack: reflection keeps this file building everywhere.
// reportedPeak reads the "peak RSS: N kB" line the demo prints last with
// peakRSSEnv set.
func reportedPeak(t *testing.T, out string) int64 {
	t.Helper()
	_, after, ok := strings.Cut(out, "peak RSS: ")
	var kb int64
	if !ok {
		t.Fatalf("the demo printed no peak RSS:\n%s", out)
	}
	if _, err := fmt.Sscanf(after, "%d kB", &kb); err != nil {
		t.Fatalf("peak RSS line %q: %v", after, err)
	}
	return kb << 10
}

func TestUnknownCommandIsAnError(t *testing.T) {
	if _, err := run(t, "no-such-command"); err == nil {
		t.Error("an unknown command succeeded")
	}
}
