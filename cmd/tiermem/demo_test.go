package main

import (
	"bytes"
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
// checks the lines the memories-dev document prints.
func TestDemoPrintsTheSeedOutput(t *testing.T) {
	out, err := run(t, "demo", "--scale", "0.01", "--wait", "2s", "--dir", t.TempDir())
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	for _, want := range []string{
		"Data shape: (100, 100)",
		"Hot memory usage: 0.10%", "Warm memory usage: 0.00%", "Cold memory usage: 0.00%",
		"Stored 100MB array with key 'data_0' in hot memory",
		"Stored 500MB array with key 'data_4' in hot memory",
		"Hot memory usage: 18.7",
		"Waiting for automatic migration...",
		"'data_0' is now in hot memory", "'data_1' is now in hot memory",
		"'data_2' is now in warm memory", "'data_3' is now in warm memory", "'data_4' is now in warm memory",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}

func TestDemoRejectsABadScale(t *testing.T) {
	if _, err := run(t, "demo", "--scale", "2"); err == nil {
		t.Error("--scale 2 accepted")
	}
}

func TestUnknownCommandIsAnError(t *testing.T) {
	if _, err := run(t, "no-such-command"); err == nil {
		t.Error("an unknown command succeeded")
	}
}
