package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

// serve reads a TIERMEM_* variable for each of its flags (envName), and
// refuses every other TIERMEM_* variable, as its config file refuses a name
// that is no flag: TIERMEM_REQUIRE_PASS=secret would otherwise start a
// server that asks no client for a password.
//
// otherVariables are the TIERMEM_* variables that are not serve's, which
// serve leaves alone: they may be set in the environment it starts in (a
// shell that exported them, a script that runs it, a test's child). Each
// says what reads it. The variables that tests of other packages set on
// their own child processes (test binaries, never serve) need no entry.
var otherVariables = map[string]string{
	redisPasswordEnv:            "tiermem cluster: --password",
	peakRSSEnv:                  "tiermem demo: print the demo's peak RSS",
	"TIERMEM_BIN":               "benchmarks/serve/redisbench.sh: the binary it starts serve from",
	"TIERMEM_TEST_SERVE_CHILD":  "cmd/tiermem's tests: the child process that runs serve",
	"TIERMEM_CLUSTER_CMD_CHILD": "cmd/tiermem's tests: the child process that runs cluster",
	"TIERMEM_S3_ENDPOINT":       "internal/s3test: the S3 server the tests use",
	"TIERMEM_S3_INSTALL":        "internal/s3test: where the tests find an S3 server to start",
	"TIERMEM_CLOSE_KEYS":        "the root package's Close benchmark: its number of keys",
	"TIERMEM_CLUSTER_BENCH_MB":  "cluster's benchmarks: the value size",
	"TIERMEM_DIFF_SEED":         "server's differential test against Redis: its seed",
	"TIERMEM_TEST_ARTIFACTS":    "server/web's dashboard test: where it keeps its screenshots",
}

// envName returns the variable that sets a flag of serve: TIERMEM_ and the
// flag's name in upper case, - as _.
func envName(flag string) string {
	return "TIERMEM_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// unknownVariables refuses the first variable of environ (KEY=value
// strings) that begins with TIERMEM_ and is neither a flag's (envName) nor
// one of otherVariables, naming the closest known name when one is near.
func unknownVariables(flags *pflag.FlagSet, environ []string) error {
	known := map[string]bool{}
	flags.VisitAll(func(f *pflag.Flag) { known[envName(f.Name)] = true })
	for name := range otherVariables {
		known[name] = true
	}
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "TIERMEM_") || known[name] {
			continue
		}
		err := fmt.Sprintf("%s: no such setting (serve reads TIERMEM_ and a flag's name in upper case, - as _; tiermem serve --help lists them)", name)
		if near := closest(name, known); near != "" {
			err += "; did you mean " + near + "?"
		}
		return fmt.Errorf("%s", err)
	}
	return nil
}

// closest returns the name of known nearest to name, within a few edits,
// or "".
func closest(name string, known map[string]bool) string {
	best, bestDist := "", 4 // more edits than this is another name
	for k := range known {
		if d := editDistance(name, k); d < bestDist || d == bestDist && k < best {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
