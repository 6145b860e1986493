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

// clock is a fake time for bars.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// fakeBar returns a shown bar on a buffer with a fake clock.
func fakeBar(total int64, bytes bool) (*bar, *clock, *strings.Builder) {
	c := &clock{t: time.Unix(1000, 0)}
	var out strings.Builder
	b := newBar(total, "work", &out, true)
	b.bytes, b.now, b.start = bytes, c.now, c.t
	return b, c, &out
}

// TestProgressBarRate checks that a bar shows no rate and no time left before it has
// run a second: the first update of a fast read is no measure ("17 TB/s").
func TestProgressBarRate(t *testing.T) {
	b, c, out := fakeBar(10<<30, true)
	c.t = c.t.Add(time.Millisecond)
	b.Set64(1 << 30)
	if s := out.String(); strings.Contains(s, "/s") || strings.Contains(s, "left") || !strings.Contains(s, "work  10% 1.0 GiB / 10.0 GiB") {
		t.Errorf("after 1 ms: %q, want progress without a rate", s)
	}
	c.t = c.t.Add(2 * time.Second)
	b.Set64(2 << 30)
	if s := out.String(); !strings.Contains(s, "1023.5 MiB/s  8s left") {
		t.Errorf("after 2 s: %q, want a rate and the time left", s)
	}
}

// TestProgressBarDrawing checks the throttle, the blanking of a longer line, the
// counts of a bar of unknown total, and Finish.
func TestProgressBarDrawing(t *testing.T) {
	b, c, out := fakeBar(-1, false)
	b.Add(5)
	b.Add(5) // within barEvery: not drawn
	if got := out.String(); got != "\rwork 5" {
		t.Fatalf("drew %q, want one line", got)
	}
	c.t = c.t.Add(2 * time.Second)
	b.Add64(12_340)
	out.Reset()
	b.Set64(3)
	c.t = c.t.Add(time.Second)
	b.Set64(3)
	if got := out.String(); got != "\rwork 3  1/s"+strings.Repeat(" ", len("work 12.3k  6.2k/s")-len("work 3  1/s")) {
		t.Fatalf("drew %q", got)
	}
	out.Reset()
	b.Finish()
	b.Add(1)
	if got := out.String(); got != "\r"+strings.Repeat(" ", len("work 3  1/s"))+"\r" {
		t.Fatalf("Finish drew %q, want the line blanked and nothing after", got)
	}
}

// TestProgressBarHidden checks that a hidden bar writes nothing at all.
func TestProgressBarHidden(t *testing.T) {
	var out bytes.Buffer
	b := newBytesBar(100, "work", &out, false)
	b.Add(50)
	b.Set64(100)
	b.Finish()
	if out.Len() != 0 {
		t.Fatalf("a hidden bar wrote %q", out.String())
	}
}

func TestProgressFormatCount(t *testing.T) {
	for n, want := range map[float64]string{0: "0", 999: "999", 1000: "1.0k", 12_345: "12.3k", 4.5e6: "4.5M", 2e18: "2.0E"} {
		if got := formatCount(n); got != want {
			t.Errorf("formatCount(%v) = %q, want %q", n, got, want)
		}
	}
}
