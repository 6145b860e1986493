package main

import (
	"bytes"
	"strings"
	"testing"
)

// run executes the tiermem command line with args and returns its output.
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

func TestDemoRuns(t *testing.T) {
	out, err := run(t, "demo")
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	for _, want := range []string{"outside the Go heap", "element 999 = 499.5", "ca fe f0 0d"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}

func TestUnknownCommandIsAnError(t *testing.T) {
	if _, err := run(t, "no-such-command"); err == nil {
		t.Error("an unknown command succeeded")
	}
}
