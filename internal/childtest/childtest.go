// Package childtest runs one test of the current test binary in a child
// process, so that a test can watch a crash (SIGBUS, out of memory) rather
// than suffer it: the child finds its part by the environment variable.
package childtest

import (
	"os"
	"os/exec"
)

// Run re-runs the test binary on the test named name, verbosely, with
// env=value added to its environment, and returns its combined output and
// error.
func Run(name, env, value string) (string, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), env+"="+value)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
