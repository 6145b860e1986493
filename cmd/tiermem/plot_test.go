package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const savedAnalytics = "../../testdata/analytics/run.json"

// TestPlotWritesEachFormat: every panel, in each format the extension
// names, into a file that is a picture of the size the layout says.
func TestPlotWritesEachFormat(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ file, panels, magic string }{
		{"a.png", "usage,hitrate", "\x89PNG"},
		{"b.svg", "all", "<?xml"},
		{"c.pdf", "latency,migration", "%PDF"},
		{"d.PNG", "hitrate", "\x89PNG"},
	} {
		out := filepath.Join(dir, c.file)
		if _, err := run(t, "plot", "--from", savedAnalytics, "--out", out, "--panels", c.panels); err != nil {
			t.Fatalf("plot %s: %v", c.file, err)
		}
		b, err := os.ReadFile(out)
		if err != nil || !bytes.HasPrefix(b, []byte(c.magic)) {
			t.Fatalf("%s: %v, starts %q, want %q", c.file, err, b[:min(len(b), 8)], c.magic)
		}
	}
	img, err := png.Decode(bytes.NewReader(must(os.ReadFile(filepath.Join(dir, "a.png")))))
	if err != nil {
		t.Fatal(err)
	}
	// Two panels side by side, 7 × 4.5 in each, at gonum's 96 dpi.
	if b := img.Bounds(); b.Dx() != 2*7*96 || b.Dy() != 432 {
		t.Errorf("the picture is %v, want 1344×432", b.Size())
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestPlotRefuses: a file that is no analytics, one without samples, an
// unknown panel or format: errors that say which, and no picture.
func TestPlotRefuses(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.json")
	os.WriteFile(empty, []byte(`{"format":"tiermem-analytics","version":1,"tiers":["hot"],"samples":[]}`), 0o644)
	junk := filepath.Join(dir, "junk.json")
	os.WriteFile(junk, []byte(`{"samples": 3}`), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--from", junk}, "not a tiermem analytics file"},
		{[]string{"--from", empty}, "no sample"},
		{[]string{"--from", savedAnalytics, "--panels", "usage,pie"}, `unknown panel "pie"`},
		{[]string{"--from", savedAnalytics, "--out", filepath.Join(dir, "x.gif")}, "want a .png, .svg or .pdf"},
		{[]string{"--from", filepath.Join(dir, "absent.json")}, "no such file"},
	} {
		out := filepath.Join(dir, "out.png")
		args := append([]string{"plot", "--out", out}, c.args...)
		_, err := run(t, args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("plot %q: %v, want an error saying %q", c.args, err, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("plot %q wrote a picture", c.args)
		}
	}
}

// TestPlotOneSampleAndStdin: a single sample (markers, no line) read from
// standard input draws.
func TestPlotOneSampleAndStdin(t *testing.T) {
	out := filepath.Join(t.TempDir(), "one.svg")
	doc := `{"format":"tiermem-analytics","version":1,"tiers":["hot"],"samples":[{"time":"2026-01-01T00:00:00Z","interval_ns":1000000000,
	"hits":0,"misses":0,"hit_rate":null,"tiers":[{"tier":"hot","used_bytes":10,"capacity_bytes":100,"percent":10,"items":1,"hit_rate":null}]}]}`
	cmd := newRootCmd()
	cmd.SetIn(strings.NewReader(doc))
	cmd.SetArgs([]string{"plot", "--from", "-", "--out", out, "--panels", "all"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(out); err != nil || !bytes.Contains(b, []byte("no operation timed")) {
		t.Fatalf("%v: the latency panels should say no operation was timed", err)
	}
}

// TestDemoAnalyticsSavesThePlot: the demo's analytics example prints the
// document's line and leaves a PNG where it says.
func TestDemoAnalyticsSavesThePlot(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	cfg := demoConfig{dir: dir, scale: 0.01, wait: 100 * time.Millisecond, out: &out, err: &out}
	if err := memoryAnalytics(cfg, dir); err != nil {
		t.Fatal(err)
	}
	png := filepath.Join(dir, "memory_analytics.png")
	if want := "Analytics visualization saved to " + png + "\n"; out.String() != want {
		t.Fatalf("output %q, want %q", out.String(), want)
	}
	if b, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Fatalf("%s: %v, not a PNG", png, err)
	}
}
