package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
