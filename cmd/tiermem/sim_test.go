package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tiermem/tiermem/internal/sim"
	"github.com/tiermem/tiermem/internal/trace"
)

// TestSimCommand replays a small LIRS trace through the sim subcommand and
// checks the table it prints.
func TestSimCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "small.trace")
	// a loop over 3 keys, 4 times: LRU and FIFO with 2 entries never hit, OPT does
	if err := os.WriteFile(path, []byte(strings.Repeat("1\n2\n3\n", 4)), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs([]string{"sim", "--trace", path, "--format", "lirs", "--sizes", "2,3", "--policies", "lru,fifo,opt", "--progress", "never"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	want := "      size       lru      fifo       opt\n" +
		"         2      0.00      0.00     50.00\n" +
		"         3     75.00     75.00     75.00\n"
	if out.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestSimCommandErrors(t *testing.T) {
	for _, args := range [][]string{
		{"sim", "--trace", "absent.trace", "--format", "lirs"},
		{"sim", "--trace", "a", "--trace", "b", "--format", "lirs,arc,lirs"},
		{"sim", "--trace", "a", "--format", "csv"},
		{"sim", "--trace", "a", "--format", "lirs", "--progress", "sometimes"},
		{"sim", "--trace", "a", "--format", "lirs", "--max-requests", "0"},
		{"sim", "--trace", "a", "--format", "lirs", "--policies", "clock"},
	} {
		root := newRootCmd()
		root.SetOut(&bytes.Buffer{})
		root.SetErr(&bytes.Buffer{})
		root.SetArgs(args)
		if err := root.Execute(); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// simRun runs tiermem sim with args and returns its standard output, its
// standard error and its error.
func simRun(args ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append([]string{"sim"}, args...))
	err := root.Execute()
	return out.String(), errOut.String(), err
}

// TestSimARCBomb replays a 19-byte ARC line that stands for 10^11 requests.
// It used to be expanded in memory, at 150 MB/s until the machine ran out;
// now it is counted in one step, and opt, the one policy that must hold the
// trace, refuses it at once, naming the limit to raise.
func TestSimARCBomb(t *testing.T) {
	path := writeInput(t, "bomb.lis", "1 99999999999 0 0\n")
	start := time.Now()
	_, _, err := simRun("--trace", path, "--format", "arc", "--progress", "never")
	if !errors.Is(err, sim.ErrTooLong) || !strings.Contains(err.Error(), "99999999999 requests") || !strings.Contains(err.Error(), "--max-requests") {
		t.Fatalf("error %v, want ErrTooLong naming the length and --max-requests", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v to refuse the trace", d)
	}
}

// TestSimStreamsPastTheLimit replays a trace longer than --max-requests: the
// policies other than opt stream it and give the same figures as when it is
// held in memory; opt refuses it.
func TestSimStreamsPastTheLimit(t *testing.T) {
	// 3 keys in a loop, 4 times, as ARC runs and as LIRS lines
	arc := writeInput(t, "loop.lis", strings.Repeat("1 3 0 0\n", 4))
	lirs := writeInput(t, "loop.trace", strings.Repeat("1\n2\n3\n", 4))
	twelve := "      size       lru      fifo\n" +
		"         2      0.00      0.00\n" +
		"         3     75.00     75.00\n"
	twentyFour := "      size       lru      fifo\n" +
		"         2      0.00      0.00\n" +
		"         3     87.50     87.50\n"
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--trace", arc, "--format", "arc", "--max-requests", "5"}, twelve},
		{[]string{"--trace", arc, "--format", "arc"}, twelve},
		{[]string{"--trace", lirs, "--trace", arc, "--format", "lirs,arc", "--max-requests", "1"}, twentyFour},
	}
	for _, tt := range tests {
		out, _, err := simRun(append(tt.args, "--sizes", "2,3", "--policies", "lru,fifo", "--progress", "never")...)
		if err != nil || out != tt.want {
			t.Errorf("%v: got\n%s%v\nwant\n%s", tt.args, out, err, tt.want)
		}
	}
	_, _, err := simRun("--trace", arc, "--format", "arc", "--max-requests", "11", "--policies", "lru,opt", "--progress", "never")
	if !errors.Is(err, sim.ErrTooLong) {
		t.Errorf("opt over 12 requests with --max-requests 11: %v, want ErrTooLong", err)
	}
}

// TestSimBadCounts checks that absurd ARC counts are errors naming the file
// and the line.
func TestSimBadCounts(t *testing.T) {
	for text, want := range map[string]string{
		"1 2 0 0\n1 -5 0 0\n":                  "line 2: count -5 is negative",
		"18446744073709551615 2 0 0\n":         "line 1: start 18446744073709551615 + count 2 runs past the largest key",
		"1 99999999999999999999 0 0\n":         "line 1: count",
		"0 9223372036854775807 0 0\n1 1 0 0\n": "line 2: more than 9223372036854775807 requests in all",
	} {
		path := writeInput(t, "bad.lis", text)
		_, _, err := simRun("--trace", path, "--format", "arc", "--policies", "lru", "--progress", "never")
		if err == nil || !strings.Contains(err.Error(), path+": ") || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one naming %s and %q", text, err, path, want)
		}
		if !errors.Is(err, trace.ErrSyntax) && !errors.Is(err, trace.ErrTooLong) {
			t.Errorf("%q: error %v is neither ErrSyntax nor ErrTooLong", text, err)
		}
	}
}

// TestSimProgress checks that --progress auto draws nothing when standard
// error is not a terminal, and that always draws there anyway.
func TestSimProgress(t *testing.T) {
	defer drawAtOnce()() // the replay takes less than the second a bar waits
	path := writeInput(t, "small.trace", strings.Repeat("1\n2\n3\n", 4))
	args := []string{"--trace", path, "--format", "lirs", "--sizes", "2"}
	if _, errOut, err := simRun(append(args, "--progress", "auto")...); err != nil || errOut != "" {
		t.Errorf("auto: wrote %q to a standard error that is not a terminal (%v)", errOut, err)
	}
	if _, errOut, err := simRun(append(args, "--progress", "always")...); err != nil || !strings.Contains(errOut, "replaying") {
		t.Errorf("always: wrote %q (%v), want a bar", errOut, err)
	}
}
