// Package childtest runs one test of the current test binary in a child
// process, so that a test can watch a crash (SIGBUS, out of memory, a
// SIGKILL it sends) rather than suffer it: the child finds its part by an
// environment variable.
package childtest

import (
	"os"
	"os/exec"
)

// Command returns the command that re-runs the test binary on the test
// named name alone, with env ("KEY=value" each) added to its environment,
// for the caller to start, read and kill.
func Command(name string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// Run re-runs the test binary on the test named name, verbosely, with
// env=value added to its environment, and returns its combined output and
// error.
func Run(name, env, value string) (string, error) {
	cmd := Command(name, env+"="+value)
	cmd.Args = append(cmd.Args, "-test.v")
	out, err := cmd.CombinedOutput()
	return string(out), err
}
