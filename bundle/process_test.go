package bundle_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/tiermem/tiermem/internal/childtest"
)

// readerEnv names the bundle a child test process reads.
const readerEnv = "BUNDLE_TEST_READER"

// TestManyProcessesRead maps one bundle in three processes at once: each
// looks up every key and verifies the file.
func TestManyProcessesRead(t *testing.T) {
	recs := randomRecords(3000, 5, true)
	path := build(t, nil, recs)
	var cmds []*exec.Cmd
	var outs []*strings.Builder
	for range 3 {
		cmd := childtest.Command("TestReaderProcess", readerEnv+"="+path)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, &out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("reader process %d: %v\n%s", i, err, outs[i])
		}
	}
}

// TestReaderProcess is the child of TestManyProcessesRead.
func TestReaderProcess(t *testing.T) {
	path := os.Getenv(readerEnv)
	if path == "" {
		t.Skip("a child of TestManyProcessesRead")
	}
	b := open(t, path)
	want := model(randomRecords(3000, 5, true), false)
	for k, rs := range want {
		if v, err := b.Get([]byte(k)); err != nil || string(v) != rs[0].value {
			t.Fatalf("Get(%q) = %q, %v", k, v, err)
		}
	}
	if err := b.Verify(); err != nil {
		t.Fatal(err)
	}
	if b.Len() != len(want) {
		t.Fatalf("Len %d, want %d", b.Len(), len(want))
	}
}
