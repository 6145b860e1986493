package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// TestShowProgress checks the --progress modes: auto draws only on a
// terminal, and /dev/null, a pipe, a file or a buffer are not terminals
// (/dev/null is a character device, which a mode check took for one).
func TestShowProgress(t *testing.T) {
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	file, err := os.Create(t.TempDir() + "/log")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for name, out := range map[string]any{"/dev/null": devNull, "pipe": w, "file": file, "buffer": &bytes.Buffer{}} {
		for mode, want := range map[string]bool{"auto": false, "always": true, "never": false} {
			if show, err := showProgress(mode, out.(interface{ Write([]byte) (int, error) })); show != want || err != nil {
				t.Errorf("%s, %s: %v, %v; want %v", mode, name, show, err, want)
			}
		}
	}
	if _, err := showProgress("sometimes", file); err == nil {
		t.Error("--progress sometimes: no error")
	}
}

// TestProgressBarWaitsForARate checks that a bar draws nothing before it has
// run rateAfter (the first update of a fast read is no measure: "17 TB/s"),
// then draws the progress and a rate measured over that time.
func TestProgressBarWaitsForARate(t *testing.T) {
	defer setRateAfter(200 * time.Millisecond)()
	var out bytes.Buffer
	b := newBytesBar(10<<30, "work", &out, true)
	b.Set64(1 << 30)
	if out.Len() != 0 {
		t.Fatalf("at once the bar drew %q, want nothing", out.String())
	}
	time.Sleep(rateAfter + barEvery)
	b.Set64(2 << 30)
	if s := out.String(); !strings.Contains(s, "work") || !strings.Contains(s, "20%") || strings.Contains(s, "TiB/s") {
		t.Errorf("after %v the bar drew %q, want the progress and a rate of at most some GiB/s", rateAfter, s)
	}
	out.Reset()
	b.Finish()
	b.Add(1)
	if s := out.String(); strings.TrimSpace(strings.ReplaceAll(s, "\r", "")) != "" {
		t.Errorf("Finish and after drew %q, want the line blanked and nothing more", s)
	}
}

// setRateAfter sets rateAfter for a test and returns what restores it.
func setRateAfter(d time.Duration) func() {
	old := rateAfter
	rateAfter = d
	return func() { rateAfter = old }
}

// drawAtOnce makes bars draw every update from the start, for tests of
// commands that finish in less than the second a bar waits; it returns
// what restores the timing.
func drawAtOnce() func() {
	oldRate, oldEvery := rateAfter, barEvery
	rateAfter, barEvery = 0, 0
	return func() { rateAfter, barEvery = oldRate, oldEvery }
}

// TestProgressBarHidden checks that a hidden bar writes nothing at all.
func TestProgressBarHidden(t *testing.T) {
	defer drawAtOnce()()
	var out bytes.Buffer
	b := newBytesBar(100, "work", &out, false)
	b.Add(50)
	b.Set64(100)
	b.Clear()
	b.Finish()
	if out.Len() != 0 {
		t.Fatalf("a hidden bar wrote %q", out.String())
	}
}
